"""Opening a payment, the status view, the pending reconciler, closing released payments and the
ticket events, each run against in-memory fakes of their ports (`service_layer.ports`)."""

import asyncio
import json
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from payment_service.domain import model
from payment_service.domain.errors import (
    AmountMismatch,
    OrderConflict,
    PaymentClosed,
    PaymentNotFound,
    RateLimited,
)
from payment_service.domain.gateway import parse_notification
from payment_service.domain.gateway_calls import (
    GatewayAnswer,
    IssuedToken,
    MidtransRefused,
    MidtransUnavailable,
    SnapToken,
    TransactionNotFound,
)
from payment_service.domain.model import PaymentStatus
from payment_service.domain.payment import Payment, PaymentRequest
from payment_service.domain.refunds import Refund
from payment_service.domain.snap import Customer, HoldExpired, Item
from payment_service.service_layer import payments, reconciliation, ticket_events
from payment_service.service_layer.notification_ledger import PaymentNotificationLedger
from payment_service.service_layer.notifications import Received
from payment_service.service_layer.payments import OpenPayment
from payment_service.service_layer.ports import PaymentDeps, PaymentWork
from payment_service.settings import PaymentSettings
from servicekit.rate_limit import RateDecision
from ticketing_contracts import EventPayload, TicketCancelled, TicketExpired

T = TypeVar("T")
AMOUNT = 150_000


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


# ----- the fakes -----


@dataclass
class Books:
    """What the fake unit of work keeps between units of work (the "database")."""

    payments: dict[str, Payment] = field(default_factory=dict)
    transitions: list[dict[str, Any]] = field(default_factory=list)
    gateway_calls: list[tuple[str, str | None, str]] = field(default_factory=list)
    events: list[EventPayload] = field(default_factory=list)
    flags: dict[str, str] = field(default_factory=dict)
    close_requested: set[str] = field(default_factory=set)
    stale: list[str] = field(default_factory=list)  # what the reconciler's claim returns
    notifications: list[dict[str, Any]] = field(default_factory=list)


class FakeWork:
    def __init__(self, books: Books) -> None:
        self.books = books
        self.in_transaction = False

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        assert not self.in_transaction
        self.in_transaction = True
        try:
            yield
        finally:
            self.in_transaction = False

    async def payment(self, order_id: str, *, lock: bool = False) -> Payment | None:
        assert not lock or self.in_transaction, "a row lock outside a transaction"
        return self.books.payments.get(order_id)

    async def insert_new(self, request: PaymentRequest) -> Payment | None:
        if request.order_id in self.books.payments:
            return None
        self.books.payments[request.order_id] = a_payment(
            request.order_id,
            amount=request.amount,
            user_id=request.user_id,
            ticket_id=request.ticket_id,
            event_id=request.event_id,
            customer=request.customer,
            items=request.items,
            metadata=request.metadata,
            expires_at=request.expires_at,
        )
        return self.books.payments[request.order_id]

    async def replace_unopened_request(self, request: PaymentRequest) -> None:
        self._update(
            request.order_id,
            amount=request.amount,
            customer=request.customer,
            items=request.items,
            metadata=request.metadata,
            expires_at=request.expires_at,
        )

    async def record_issued_token(self, order_id: str, issued: IssuedToken) -> Payment:
        assert self.in_transaction, "a token outside the payment's row lock"
        await self.record_gateway_call(issued.answer, order_id=order_id, source="api")
        status = str(self.books.payments[order_id].status)
        self._update(
            order_id,
            snap_token=issued.token,
            redirect_url=issued.redirect_url,
            snap_token_expires_at=issued.expires_at,
        )
        await self.add_transition(
            order_id=order_id,
            from_status=status,
            to_status=status,
            source="api",
            verdict="applied",
            reason=issued.reason,
            gateway_body=issued.answer.body,
        )
        return self.books.payments[order_id]

    async def save_gateway_state(
        self,
        order_id: str,
        *,
        status: PaymentStatus,
        refunded_amount: int,
        transaction_status: str | None,
        fraud_status: str | None,
        payment_type: str | None,
        transaction_id: str | None,
        settled: bool,
        events: int = 0,
    ) -> int:
        assert self.in_transaction
        last = self.books.payments[order_id].event_sequence + events
        self._update(
            order_id,
            status=status,
            refunded_amount=refunded_amount,
            transaction_status=transaction_status,
            fraud_status=fraud_status,
            event_sequence=last,
        )
        return last

    async def publish(self, payload: EventPayload) -> str:
        assert self.in_transaction, "an event outside the change's transaction"
        self.books.events.append(payload)
        return type(payload).__name__

    async def flag(self, order_id: str, reason: str) -> None:
        self.books.flags[order_id] = reason

    async def add_transition(self, **transition: Any) -> None:
        self.books.transitions.append(transition)

    async def record_gateway_call(
        self, answer: GatewayAnswer, *, order_id: str | None, source: str
    ) -> None:
        self.books.gateway_calls.append((answer.operation, order_id, source))

    async def record_notification(self, **notification: Any) -> int:
        self.books.notifications.append(notification)
        return len(self.books.notifications)

    async def count_dropped_notification(self, verdict: str) -> None:
        raise AssertionError("not a notification path")

    async def claim_for_reconciliation(self, *, older_than_seconds: float, limit: int) -> list[str]:
        claimed, self.books.stale = self.books.stale[:limit], self.books.stale[limit:]
        return claimed

    async def request_close(self, order_id: str) -> bool:
        self.books.close_requested.add(order_id)
        return True

    async def claim_closing(self, *, limit: int, retry_seconds: float) -> list[str]:
        claimed = sorted(self.books.close_requested)[:limit]
        self.books.close_requested -= set(claimed)
        return claimed

    def refunds(self) -> Any:
        raise AssertionError("no refunds in these stories")

    def _update(self, order_id: str, **changes: Any) -> None:
        self.books.payments[order_id] = replace(self.books.payments[order_id], **changes)


def answer(operation: str, body: dict[str, Any] | None, http_status: int = 200) -> GatewayAnswer:
    return GatewayAnswer(operation, http_status, body, duration_ms=1.0)


@dataclass
class FakeMidtrans:
    """Midtrans per order: `transactions` is what its status API says (absent: 404)."""

    transactions: dict[str, dict[str, Any]] = field(default_factory=dict)
    snap_failure: Exception | None = None
    status_failure: Exception | None = None
    refuse_closing: bool = False
    snap_calls: list[dict[str, Any]] = field(default_factory=list)
    closing_calls: list[tuple[str, str]] = field(default_factory=list)

    async def create_snap_transaction(self, body: dict[str, Any]) -> SnapToken:
        self.snap_calls.append(body)
        if self.snap_failure is not None:
            raise self.snap_failure
        n = len(self.snap_calls)
        return SnapToken(f"token-{n}", f"https://snap/{n}", answer("snap.create", {}, 201))

    async def status(self, transaction_id: str) -> GatewayAnswer:
        if self.status_failure is not None:
            raise self.status_failure
        body = self.transactions.get(transaction_id)
        if body is None:
            raise TransactionNotFound("404", answer("core.status", None, 404))
        return answer("core.status", dict(body))

    async def expire(self, transaction_id: str) -> GatewayAnswer:
        return self._close(transaction_id, "expire")

    async def cancel(self, transaction_id: str) -> GatewayAnswer:
        return self._close(transaction_id, "cancel")

    async def refund(
        self, transaction_id: str, *, refund_key: str, amount: int, reason: str
    ) -> GatewayAnswer:
        raise AssertionError("no refunds in these stories")

    def _close(self, order_id: str, how: str) -> GatewayAnswer:
        self.closing_calls.append((how, order_id))
        if self.refuse_closing:
            raise MidtransRefused("412", answer(f"core.{how}", {"status_code": "412"}, 412))
        self.transactions[order_id] = midtrans_says(order_id, how)
        return answer(f"core.{how}", dict(self.transactions[order_id]))


def midtrans_says(order_id: str, transaction_status: str, **more: str) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "transaction_status": transaction_status,
        "gross_amount": f"{AMOUNT}.00",
        "currency": "IDR",
        "payment_type": "bank_transfer",
        **more,
    }


@dataclass
class FakeLimit:
    allowed: bool = True

    async def attempt(self, user_id: str) -> RateDecision:
        return RateDecision(self.allowed, 0 if self.allowed else 7)


@dataclass
class FakeStatusCache:
    bodies: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    async def get(self, order_id: str, version: str) -> dict[str, Any] | None:
        return self.bodies.get((order_id, version))

    async def put(self, order_id: str, version: str, body: dict[str, Any]) -> None:
        self.bodies[(order_id, version)] = body


@dataclass
class FakeGuards:
    snap_token: FakeLimit = field(default_factory=FakeLimit)
    status: FakeLimit = field(default_factory=FakeLimit)
    status_cache: FakeStatusCache = field(default_factory=FakeStatusCache)


class NoRefunds:
    async def refunds_of(self, order_id: str) -> list[Refund]:
        return []


@dataclass
class World:
    books: Books = field(default_factory=Books)
    midtrans: FakeMidtrans = field(default_factory=FakeMidtrans)
    guards: FakeGuards = field(default_factory=FakeGuards)

    @property
    def deps(self) -> PaymentDeps:
        @asynccontextmanager
        async def works() -> AsyncIterator[PaymentWork]:
            yield FakeWork(self.books)

        @asynccontextmanager
        async def refund_works() -> AsyncIterator[Any]:
            yield NoRefunds()

        def paid_checks() -> Any:
            raise AssertionError("not the paid reconciler")

        return PaymentDeps(
            works=works,
            midtrans=self.midtrans,
            settings=PaymentSettings(),
            guards=self.guards,
            refund_works=refund_works,
            paid_checks=paid_checks,
        )

    def status(self, order_id: str) -> PaymentStatus:
        return self.books.payments[order_id].status

    def event_types(self) -> list[str]:
        return [type(e).__name__ for e in self.books.events]


def now() -> datetime:
    """The real clock at the moment of use: the use cases read it too, however late a test runs."""
    return datetime.now(UTC)


def a_payment(order_id: str, **changes: Any) -> Payment:
    values: dict[str, Any] = dict(
        order_id=order_id,
        amount=AMOUNT,
        currency="IDR",
        user_id="buyer-1",
        ticket_id="ticket-1",
        event_id="event-1",
        customer={"name": "Siti Rahma", "email": "siti@example.id", "phone": None},
        items=[{"id": "ticket", "name": "Jazz", "price": AMOUNT, "quantity": 1}],
        metadata={},
        expires_at=now() + timedelta(minutes=15),
        snap_token=None,
        redirect_url=None,
        snap_token_expires_at=None,
        status=PaymentStatus.CREATED,
        transaction_status=None,
        fraud_status=None,
        payment_type=None,
        transaction_id=None,
        refunded_amount=0,
        settled_at=None,
        flagged_at=None,
        flag_reason=None,
        close_requested_at=None,
        created_at=now(),
        updated_at=now(),
        event_sequence=0,
    )
    return Payment(**{**values, **changes})


def open_command(order_id: str = "TIX-1", **changes: Any) -> OpenPayment:
    values: dict[str, Any] = dict(
        order_id=order_id,
        amount=AMOUNT,
        currency="IDR",
        customer=Customer("Siti Rahma", "siti@example.id"),
        items=[Item("ticket", "Jazz", AMOUNT, 1)],
        expires_at=now() + timedelta(minutes=15),
        user_id="buyer-1",
        ticket_id="ticket-1",
        event_id="event-1",
        metadata={"event_title": "Jazz"},
    )
    return OpenPayment(**{**values, **changes})


def opened(world: World, order_id: str = "TIX-1", **changes: Any) -> Payment:
    payment = a_payment(order_id, snap_token="token-0", redirect_url="https://snap/0", **changes)
    world.books.payments[order_id] = payment
    return payment


def ticket_facts() -> dict[str, Any]:
    return {
        "ticket_id": "ticket-1",
        "event_id": "event-1",
        "user_id": "buyer-1",
        "order_id": "TIX-1",
        "attendance_code": "A-1",
        "holder_name": "Siti Rahma",
        "holder_email": "siti@example.id",
        "event_title": "Jazz",
        "event_starts_at": now() + timedelta(days=10),
    }


def inbox_work(world: World) -> FakeWork:
    """The unit of work of a ticket event: inside the inbox transaction."""
    work = FakeWork(world.books)
    work.in_transaction = True
    return work


# ----- opening a payment -----


def test_opening_stores_the_payment_asks_snap_once_and_answers_opened() -> None:
    world = World()
    result = run(payments.open_payment(world.deps, open_command()))
    assert result.opened is True
    assert result.payment.snap_token == "token-1"
    assert result.payment.metadata["ticket_id"] == "ticket-1"
    assert len(world.midtrans.snap_calls) == 1
    assert world.books.gateway_calls == [("snap.create", "TIX-1", "api")]
    assert world.books.transitions[-1]["reason"].startswith("payment opened: Snap token issued")


def test_the_same_order_again_is_the_same_payment_without_a_second_snap_call() -> None:
    world = World()
    first = run(payments.open_payment(world.deps, open_command()))
    again = run(payments.open_payment(world.deps, open_command()))
    assert again.opened is False
    assert again.payment.snap_token == first.payment.snap_token
    assert len(world.midtrans.snap_calls) == 1


@pytest.mark.parametrize(
    "changes", [{"amount": AMOUNT + 1000}, {"user_id": "someone-else"}, {"ticket_id": "t-2"}]
)
def test_the_same_order_with_other_details_is_a_conflict(changes: dict[str, Any]) -> None:
    world = World()
    run(payments.open_payment(world.deps, open_command()))
    with pytest.raises(OrderConflict):
        run(payments.open_payment(world.deps, open_command(**changes)))


def test_a_hold_ending_within_a_minute_opens_nothing() -> None:
    world = World()
    with pytest.raises(HoldExpired):
        run(
            payments.open_payment(
                world.deps, open_command(expires_at=now() + timedelta(seconds=20))
            )
        )
    assert world.books.payments == {}


def test_an_opened_order_asked_again_as_its_hold_ends_answers_its_token() -> None:
    """The minute's check refuses to open a payment, not to answer one already opened."""
    world = World()
    first = run(payments.open_payment(world.deps, open_command()))
    late = open_command(expires_at=now() + timedelta(seconds=20))
    again = run(payments.open_payment(world.deps, late))
    assert (again.opened, again.payment.snap_token) == (False, first.payment.snap_token)
    assert len(world.midtrans.snap_calls) == 1


def test_a_snap_failure_is_recorded_and_the_order_may_be_asked_again_with_new_details() -> None:
    world = World()
    world.midtrans.snap_failure = MidtransUnavailable("down", answer("snap.create", None, 503))
    with pytest.raises(MidtransUnavailable):
        run(payments.open_payment(world.deps, open_command()))
    assert world.books.gateway_calls == [("snap.create", "TIX-1", "api")]
    assert world.books.payments["TIX-1"].snap_token is None
    world.midtrans.snap_failure = None
    cheaper = open_command(amount=100_000, items=[Item("ticket", "Jazz", 100_000, 1)])
    result = run(payments.open_payment(world.deps, cheaper))
    assert result.opened and result.payment.amount == 100_000


# ----- a notification, decided once -----


def test_the_ledger_decides_a_notification_once_and_audits_that_verdict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = World()
    opened(world, status=PaymentStatus.PENDING)
    decisions: list[model.Decision] = []

    def counted(state: model.PaymentState, obs: model.Observation) -> model.Decision:
        decisions.append(model.decide(state, obs))
        return decisions[-1]

    for module in ("notification_ledger", "gateway_sync"):
        monkeypatch.setattr(f"payment_service.service_layer.{module}.decide", counted)
    body = midtrans_says("TIX-1", "settlement", status_code="200", signature_key="s")
    raw = json.dumps(body).encode()
    received = Received(raw, "10.0.0.1", parse_notification(raw), signature_valid=True)
    ledger = PaymentNotificationLedger(world.deps.works)
    decision = run(ledger.apply(received, body, "confirmed with the status API"))
    assert len(decisions) == 1
    assert decision.status is PaymentStatus.SETTLED
    assert world.books.notifications[0]["verdict"] == "applied"
    assert world.books.transitions[-1]["notification_id"] == 1
    assert world.event_types() == ["PaymentSettledV3"]


# ----- the owner's Snap token -----


def token_for(world: World, caller_id: str = "buyer-1", amount: int = AMOUNT) -> Payment:
    return run(
        payments.snap_token_for_owner(
            world.deps,
            order_id="TIX-1",
            amount=amount,
            caller_id=caller_id,
            event_id=None,
            user_id=None,
        )
    )


def test_the_owner_gets_the_stored_token_while_the_page_stands() -> None:
    world = World()
    opened(world, snap_token_expires_at=now() + timedelta(minutes=10))
    assert token_for(world).snap_token == "token-0"
    assert world.midtrans.snap_calls == []


def test_an_expired_page_is_renewed_and_other_callers_see_nothing() -> None:
    world = World()
    opened(world, snap_token_expires_at=now() - timedelta(minutes=1))
    assert token_for(world).snap_token == "token-1"
    with pytest.raises(PaymentNotFound):
        token_for(world, caller_id="other")
    with pytest.raises(AmountMismatch):
        token_for(world, amount=1)


def test_a_customer_who_picked_a_method_keeps_the_old_token() -> None:
    world = World()
    opened(world, snap_token_expires_at=now() - timedelta(minutes=1))
    refusal = {"error_messages": ["transaction_details.order_id has already been taken"]}
    world.midtrans.snap_failure = MidtransRefused("taken", answer("snap.create", refusal, 400))
    world.midtrans.snap_failure.details.update(refusal)
    assert token_for(world).snap_token == "token-0"
    assert world.books.gateway_calls == [("snap.create", "TIX-1", "api")]


def test_a_paid_order_has_no_token_and_the_limit_is_enforced() -> None:
    world = World()
    opened(world, status=PaymentStatus.SETTLED)
    with pytest.raises(PaymentClosed):
        token_for(world)
    world.guards.snap_token.allowed = False
    with pytest.raises(RateLimited) as limited:
        token_for(world)
    assert limited.value.headers == {"Retry-After": "7"}


# ----- the status view -----


def status_view(world: World, caller_id: str = "buyer-1", *, admin: bool = False) -> Any:
    return run(
        payments.payment_status(
            world.deps, order_id="TIX-1", caller_id=caller_id, caller_is_admin=admin
        )
    )


def test_the_status_view_applies_midtrans_live_answer_and_caches_it() -> None:
    world = World()
    opened(world, status=PaymentStatus.PENDING)
    world.midtrans.transactions["TIX-1"] = midtrans_says("TIX-1", "settlement")
    view = status_view(world)
    assert view.payment.status is PaymentStatus.SETTLED
    assert view.midtrans["transaction_status"] == "settlement"
    assert view.refunds == []
    assert world.event_types() == ["PaymentSettledV3"]
    [cached] = world.guards.status_cache.bodies.values()
    assert cached["transaction_status"] == "settlement"
    world.midtrans.transactions.clear()  # the cached answer is used, Midtrans is not asked
    assert status_view(world).midtrans["transaction_status"] == "settlement"
    assert world.event_types() == ["PaymentSettledV3"]


def test_a_change_to_the_payment_retires_midtrans_cached_answer() -> None:
    world = World()
    opened(world, status=PaymentStatus.PENDING)
    world.midtrans.transactions["TIX-1"] = midtrans_says("TIX-1", "pending")
    assert status_view(world).midtrans["transaction_status"] == "pending"
    # A notification settles it meanwhile: the payment is written, its version moves on.
    world.books.payments["TIX-1"] = replace(
        world.books.payments["TIX-1"],
        status=PaymentStatus.SETTLED,
        updated_at=world.books.payments["TIX-1"].updated_at + timedelta(milliseconds=1),
    )
    world.midtrans.transactions["TIX-1"] = midtrans_says("TIX-1", "settlement")
    assert status_view(world).midtrans["transaction_status"] == "settlement"  # asked again


def test_the_status_view_without_a_midtrans_transaction_or_reachable_midtrans() -> None:
    world = World()
    opened(world)
    assert status_view(world).midtrans is None
    world.midtrans.status_failure = MidtransUnavailable("down", answer("core.status", None, 503))
    view = status_view(world)
    assert view.midtrans is None and view.payment.status is PaymentStatus.CREATED
    assert world.books.gateway_calls == [("core.status", "TIX-1", "api")]


def test_someone_elses_order_is_not_found_but_an_admin_sees_it() -> None:
    world = World()
    opened(world)
    with pytest.raises(PaymentNotFound):
        status_view(world, "intruder")
    assert status_view(world, "admin-1", admin=True).payment.order_id == "TIX-1"


# ----- the pending reconciler -----


def test_the_reconciler_applies_a_lost_settlement() -> None:
    world = World()
    opened(world, status=PaymentStatus.PENDING)
    world.books.stale = ["TIX-1"]
    world.midtrans.transactions["TIX-1"] = midtrans_says("TIX-1", "settlement")
    assert run(reconciliation.reconcile_pending(world.deps)) == 1
    assert world.status("TIX-1") is PaymentStatus.SETTLED
    assert world.event_types() == ["PaymentSettledV3"]
    assert world.books.transitions[-1]["source"] == "reconciler"


def test_the_reconciler_expires_an_unpaid_order_only_after_the_snap_session() -> None:
    world = World()
    opened(world, expires_at=now() - timedelta(seconds=30))  # within the grace period
    opened(world, "TIX-2", expires_at=now() - timedelta(hours=1))
    world.books.stale = ["TIX-1", "TIX-2"]
    assert run(reconciliation.reconcile_pending(world.deps)) == 2
    assert world.status("TIX-1") is PaymentStatus.CREATED
    assert world.status("TIX-2") is PaymentStatus.EXPIRED
    assert world.event_types() == ["PaymentFailedV3"]


def test_the_reconciler_survives_a_midtrans_outage() -> None:
    world = World()
    opened(world, status=PaymentStatus.PENDING)
    world.books.stale = ["TIX-1"]
    world.midtrans.status_failure = MidtransUnavailable("down", answer("core.status", None, 503))
    assert run(reconciliation.reconcile_pending(world.deps)) == 1
    assert world.status("TIX-1") is PaymentStatus.PENDING
    assert world.books.gateway_calls == [("core.status", "TIX-1", "reconciler")]


# ----- closing released payments, and the ticket events that ask for it -----


def test_an_expired_ticket_closes_its_pending_transaction_at_midtrans() -> None:
    world = World()
    opened(world, status=PaymentStatus.PENDING)
    world.midtrans.transactions["TIX-1"] = midtrans_says("TIX-1", "pending")
    expired = TicketExpired(**ticket_facts(), expired_at=now())
    assert run(ticket_events.ticket_expired(inbox_work(world), expired)) is True
    assert world.books.transitions[-1]["verdict"] == "close_requested"
    assert run(reconciliation.close_released_payments(world.deps)) == 1
    assert world.midtrans.closing_calls == [("expire", "TIX-1")]
    assert world.status("TIX-1") is PaymentStatus.EXPIRED
    assert world.event_types() == ["PaymentFailedV3"]


def test_a_challenged_card_is_cancelled_and_a_declined_order_ends_as_expired() -> None:
    world = World()
    opened(world, status=PaymentStatus.CHALLENGE)
    opened(world, "TIX-2", status=PaymentStatus.DENIED)
    world.midtrans.transactions["TIX-1"] = midtrans_says(
        "TIX-1", "capture", fraud_status="challenge"
    )
    world.midtrans.transactions["TIX-2"] = midtrans_says("TIX-2", "deny")
    world.books.close_requested = {"TIX-1", "TIX-2"}
    assert run(reconciliation.close_released_payments(world.deps)) == 2
    assert world.midtrans.closing_calls == [("cancel", "TIX-1")]
    assert world.status("TIX-1") is PaymentStatus.CANCELLED
    assert world.status("TIX-2") is PaymentStatus.EXPIRED


def test_a_transaction_paid_meanwhile_is_taken_as_paid_when_closing_is_refused() -> None:
    world = World()
    opened(world, status=PaymentStatus.PENDING)
    world.midtrans.transactions["TIX-1"] = midtrans_says("TIX-1", "pending")
    world.midtrans.refuse_closing = True
    world.books.close_requested = {"TIX-1"}

    async def paid_while_closing(transaction_id: str) -> GatewayAnswer:
        world.midtrans.closing_calls.append(("expire", transaction_id))
        world.midtrans.transactions["TIX-1"] = midtrans_says("TIX-1", "settlement")
        raise MidtransRefused("412", answer("core.expire", {"status_code": "412"}, 412))

    world.midtrans.expire = paid_while_closing  # type: ignore[method-assign]
    assert run(reconciliation.close_released_payments(world.deps)) == 1
    assert world.status("TIX-1") is PaymentStatus.SETTLED
    assert [call[0] for call in world.books.gateway_calls].count("core.status") == 2


def test_a_cancelled_ticket_of_a_paid_order_closes_nothing() -> None:
    world = World()
    opened(world, status=PaymentStatus.SETTLED)
    cancelled = TicketCancelled(
        **ticket_facts(), cancelled_at=now(), cancelled_by="buyer-1", reason="changed plans"
    )
    assert run(ticket_events.ticket_cancelled(inbox_work(world), cancelled)) is False
    assert world.books.close_requested == set()
