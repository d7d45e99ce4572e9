"""Placing and cancelling orders on in-memory fakes of their ports, and payment events moving
every ticket of an order."""

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from fakes import EVENT_ID, NOW, FakeLimiter, FakePayments, a_ticket
from ticket_service.adapters.sold_out_memory import RecentlySoldOut
from ticket_service.domain.door import Actor, AlreadyCheckedIn, DoorTicket
from ticket_service.domain.entities import Ticket
from ticket_service.domain.errors import PaymentServiceUnavailable, PaymentUnavailable, SoldOut
from ticket_service.domain.orders import (
    Attendee,
    InvalidOrder,
    Order,
    OrderItem,
    OrderLine,
    OrderNotFound,
)
from ticket_service.domain.payments import Order as PaidOrder
from ticket_service.domain.payments import OrderedTicket
from ticket_service.domain.purchases import PurchaseRequest
from ticket_service.domain.tickets import TicketStatus, TransactionStatus
from ticket_service.service_layer.activation import apply_payment_event
from ticket_service.service_layer.order_cancellation import CancelOrder, cancel_order
from ticket_service.service_layer.ordering import (
    Held,
    KeyTaken,
    OrderDeps,
    OrderKeyAnswered,
    Placed,
    PlaceOrder,
    payment_request,
    place_order,
)
from ticketing_contracts import PaymentSettledV3
from ticketing_contracts.internal_payments import OpenedPayment

LINES = (OrderLine("vip", "VIP", 300_000, 1), OrderLine("early", "Early Bird", 100_000, 2))


def an_order(**overrides: Any) -> Order:
    fields: dict[str, Any] = {
        "id": "order-1",
        "event_id": EVENT_ID,
        "buyer_id": "user-7",
        "status": "pending",
        "total": 450_000,
        "discount": 50_000,
        "currency": "IDR",
        "promo_code": "TEMAN",
        "payment_order_id": "TKT-t-0",
        "customer_name": "Siti Rahma",
        "customer_email": "siti@example.id",
        "customer_phone": None,
        "hold_expires_at": NOW + timedelta(minutes=15),
        "paid_at": None,
        "cancelled_at": None,
        "created_at": NOW,
        "updated_at": NOW,
        "event_title": "Jazz di Taman Menteng",
        "event_starts_at": NOW + timedelta(days=10),
        "ticket_ids": ("t-0", "t-1", "t-2"),
        "lines": LINES,
    }
    return Order(**{**fields, **overrides})


@dataclass
class FakeOrderStore:
    """One database's orders: the hold's outcome is scripted, everything after it is recorded."""

    placed: Order = field(default_factory=an_order)
    refusal: Exception | None = None
    key_taken: bool = False
    requests: dict[tuple[str, str], PurchaseRequest] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    in_transaction: bool = False

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        self.in_transaction = True
        yield
        self.in_transaction = False

    async def may_be_free(self, cmd: PlaceOrder) -> bool:
        return cmd.promo_code is not None

    async def hold(self, cmd: PlaceOrder, *, now: datetime) -> Held | KeyTaken:
        self.log.append("hold")
        if self.refusal is not None:
            raise self.refusal
        if self.key_taken:
            return KeyTaken()
        return Held(self.placed.id, free=self.placed.is_free)

    async def find_request(self, buyer_id: str, key: str) -> PurchaseRequest | None:
        return self.requests.get((buyer_id, key))

    async def forget_request(self, buyer_id: str, key: str) -> None:
        self.log.append("forget")
        self.requests.pop((buyer_id, key), None)

    async def order(self, order_id: str) -> Order | None:
        return self.placed if order_id == self.placed.id else None

    async def tickets(self, order_id: str) -> list[Ticket]:
        return [a_ticket(t, user_id=self.placed.buyer_id) for t in self.placed.ticket_ids]

    async def announce_activated(self, order_id: str, *, at: datetime) -> None:
        self.log.append(f"announce:{'in' if self.in_transaction else 'outside'} transaction")

    async def record_opened_payment(self, order_id: str, opened: OpenedPayment) -> None:
        self.log.append("record_payment")

    async def release(self, order_id: str, *, now: datetime) -> int:
        self.log.append("release")
        self.placed = dataclasses.replace(self.placed, status="expired")
        return 3

    def store(self) -> Any:
        @asynccontextmanager
        async def open_store() -> AsyncIterator["FakeOrderStore"]:
            yield self

        return open_store


def place(**overrides: Any) -> PlaceOrder:
    fields: dict[str, Any] = {
        "buyer_id": "user-7",
        "event_id": EVENT_ID,
        "items": (OrderItem("vip", 1), OrderItem("early", 2)),
        "attendees": (),
        "customer_name": "Siti Rahma",
        "customer_email": "siti@example.id",
        "customer_phone": None,
    }
    return PlaceOrder(**{**fields, **overrides})


def deps(store: FakeOrderStore, payments: FakePayments | None = None, **kw: Any) -> OrderDeps:
    return OrderDeps(
        store=store.store(),
        payments=payments or FakePayments(),
        limiter=kw.get("limiter") or FakeLimiter(),
        sold_out=kw.get("sold_out") or RecentlySoldOut(lambda: True),
        clock=lambda: NOW,
    )


async def test_a_paid_order_opens_one_payment_with_a_line_per_type_and_the_discount() -> None:
    store, payments = FakeOrderStore(), FakePayments()

    placed = await place_order(place(), deps=deps(store, payments))

    assert isinstance(placed, Placed) and placed.payment is not None
    [request] = payments.requests
    assert [(i.id, i.price, i.quantity) for i in request.items] == [
        ("vip", 300_000, 1),
        ("early", 100_000, 2),
        ("discount", -50_000, 1),
    ]
    assert sum(i.price * i.quantity for i in request.items) == request.amount == 450_000
    assert request.metadata.ticket_id == "t-0"
    assert request.metadata.ticket_ids == ["t-0", "t-1", "t-2"]
    assert request.metadata.purchase_order_id == "order-1"
    assert store.log == ["hold", "record_payment"]


async def test_a_free_order_is_announced_in_the_holds_transaction_and_opens_no_payment() -> None:
    store = FakeOrderStore(placed=an_order(total=0, discount=500_000, payment_order_id=None))
    payments = FakePayments()

    placed = await place_order(place(promo_code="GRATIS"), deps=deps(store, payments))

    assert isinstance(placed, Placed) and placed.payment is None
    assert store.log == ["hold", "announce:in transaction"]
    assert payments.requests == []


async def test_payments_down_releases_the_whole_order_and_forgets_the_key() -> None:
    store = FakeOrderStore()
    store.requests[("user-7", "k-1")] = PurchaseRequest("fp", None, answered=False)
    payments = FakePayments(failure=PaymentServiceUnavailable("down"))

    with pytest.raises(PaymentUnavailable):
        await place_order(place(idempotency_key="k-1"), deps=deps(store, payments))

    assert store.log == ["hold", "release", "forget"]


async def test_a_retry_whose_first_attempt_holds_the_order_resumes_it_and_never_releases() -> None:
    cmd = place(idempotency_key="k-1")
    store = FakeOrderStore(key_taken=True)
    store.requests[("user-7", "k-1")] = PurchaseRequest(cmd.fingerprint(), "t-0", False, "order-1")
    payments = FakePayments(failure=PaymentServiceUnavailable("down"))

    with pytest.raises(PaymentUnavailable):
        await place_order(cmd, deps=deps(store, payments))

    assert "release" not in store.log


async def test_a_retry_of_an_answered_key_replays_the_stored_answer() -> None:
    cmd = place(idempotency_key="k-1")
    store = FakeOrderStore(key_taken=True)
    store.requests[("user-7", "k-1")] = PurchaseRequest(cmd.fingerprint(), "t-0", True, "order-1")

    assert isinstance(await place_order(cmd, deps=deps(store)), OrderKeyAnswered)


async def test_a_refused_hold_opens_nothing() -> None:
    store, payments = (
        FakeOrderStore(refusal=SoldOut("Item 1 (early) cannot be held")),
        FakePayments(),
    )

    with pytest.raises(SoldOut):
        await place_order(place(), deps=deps(store, payments))

    assert payments.requests == [] and store.log == ["hold"]


async def test_only_an_event_with_no_seat_at_all_is_remembered_as_sold_out() -> None:
    """A type, a quota or an order bigger than what is left says nothing of smaller orders."""
    memory = RecentlySoldOut(lambda: True)
    partial = [
        SoldOut("Item 0 (vip) cannot be held", details={"ticket_type_id": "vip", "available": 0}),
        SoldOut("This event is sold out.", details={"capacity": 10, "available": 2}),
    ]
    for refusal in partial:
        with pytest.raises(SoldOut):
            await place_order(place(), deps=deps(FakeOrderStore(refusal=refusal), sold_out=memory))
        assert memory.recall(EVENT_ID) is None
    full = SoldOut("This event is sold out.", details={"capacity": 10, "available": 0})
    with pytest.raises(SoldOut):
        await place_order(place(), deps=deps(FakeOrderStore(refusal=full), sold_out=memory))

    limiter, untouched = FakeLimiter(), FakeOrderStore()
    with pytest.raises(SoldOut) as refused:
        await place_order(place(), deps=deps(untouched, limiter=limiter, sold_out=memory))

    assert refused.value.details == full.details
    assert untouched.log == [] and limiter.attempts == 0


async def test_attendees_must_be_one_per_ticket_before_the_attempt_is_counted() -> None:
    limiter = FakeLimiter()
    cmd = place(attendees=(Attendee("Budi", "budi@example.id"),))

    with pytest.raises(InvalidOrder):
        await place_order(cmd, deps=deps(FakeOrderStore(), limiter=limiter))

    assert limiter.attempts == 0


def test_the_payment_request_of_an_order_without_discount_has_no_discount_line() -> None:
    order = an_order(total=500_000, discount=0, promo_code=None)
    request = payment_request(order, [a_ticket(t) for t in order.ticket_ids])
    assert [i.id for i in request.items] == ["vip", "early"]


# --- cancelling ---------------------------------------------------------------------------


def a_door_ticket(ticket_id: str, **overrides: Any) -> DoorTicket:
    return dataclasses.replace(
        DoorTicket.of(a_ticket(ticket_id, status=TicketStatus.ACTIVE, price_paid=100_000)),
        **overrides,
    )


@dataclass
class FakeCancellation:
    order: Order
    tickets: list[DoorTicket]
    log: list[str] = field(default_factory=list)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        yield

    async def lock_order(self, order_id: str) -> tuple[Order, list[DoorTicket]] | None:
        return (self.order, self.tickets) if order_id == self.order.id else None

    async def release(self, order_id: str, *, by: str, reason: str, now: datetime) -> None:
        self.log.append("release")

    async def cancel_ticket(self, ticket: DoorTicket, *, by: str, reason: str) -> None:
        self.log.append(f"cancel:{ticket.id}")

    async def request_refund(self, ticket: DoorTicket, *, amount: int, reason: str) -> None:
        self.log.append(f"refund:{ticket.id}:{amount}")


async def test_cancelling_a_pending_order_releases_it() -> None:
    repo = FakeCancellation(an_order(), [])
    await cancel_order(repo, CancelOrder("order-1", Actor("user-7")), now=NOW)
    assert repo.log == ["release"]


async def test_cancelling_a_paid_order_refunds_each_tickets_share() -> None:
    tickets = [a_door_ticket("t-0", price_paid=250_000), a_door_ticket("t-1", price_paid=200_000)]
    repo = FakeCancellation(an_order(status="paid"), tickets)

    result = await cancel_order(repo, CancelOrder("order-1", Actor("user-7")), now=NOW)

    assert result.refund_requested == 450_000
    assert repo.log == ["cancel:t-0", "refund:t-0:250000", "cancel:t-1", "refund:t-1:200000"]


async def test_a_checked_in_ticket_keeps_the_whole_paid_order() -> None:
    tickets = [a_door_ticket("t-0"), a_door_ticket("t-1", is_checked_in=True, checked_in_at=NOW)]
    repo = FakeCancellation(an_order(status="paid"), tickets)

    with pytest.raises(AlreadyCheckedIn):
        await cancel_order(repo, CancelOrder("order-1", Actor("user-7")), now=NOW)

    assert repo.log == []


async def test_someone_elses_order_is_not_found() -> None:
    repo = FakeCancellation(an_order(), [a_door_ticket("t-0")])
    with pytest.raises(OrderNotFound):
        await cancel_order(repo, CancelOrder("order-1", Actor("user-8")), now=NOW)


# --- payment events, every ticket of the order -----------------------------------------


@dataclass
class FakePaidOrder:
    """An order of several tickets as the payment events' port sees it."""

    order: PaidOrder
    free_seats: int = 10
    moved: dict[str, TicketStatus] = field(default_factory=dict)
    emitted: list[str] = field(default_factory=list)

    async def lock_order(self, order_id: str) -> PaidOrder | None:
        return self.order

    async def move_seats(self, event_id: str, *, sold: int = 0, held: int = 0) -> None:
        pass

    async def take_free_seat(self, event_id: str, *, ticket_type_id: str | None = None) -> bool:
        self.free_seats -= 1
        return self.free_seats >= 0

    async def move_ticket(self, order: PaidOrder, target: TicketStatus, **_: Any) -> None:
        self.moved[order.ticket_id] = target

    async def activate(self, order: PaidOrder, **_: Any) -> None:
        self.moved[order.ticket_id] = TicketStatus.ACTIVE

    async def update_transaction(
        self, order: PaidOrder, status: TransactionStatus, **_: Any
    ) -> None:
        pass

    async def record_progress(self, order: PaidOrder, progress: Any) -> None:
        pass

    async def record_attempt(self, order: PaidOrder, attempt: Any) -> None:
        pass

    async def record_refund(self, order: PaidOrder, refund: Any) -> None:
        pass

    async def announce_activated(self, order: PaidOrder, *, at: datetime) -> None:
        self.emitted.append(f"activated:{order.ticket_id}")

    async def announce_cancelled(self, order: PaidOrder, **_: Any) -> None:
        self.emitted.append(f"cancelled:{order.ticket_id}")

    async def announce_refund_requested(
        self, order: PaidOrder, *, amount: int, reason: str
    ) -> None:
        self.emitted.append(f"refund:{order.ticket_id}:{amount}")


def paid_order(status: TicketStatus) -> PaidOrder:
    tickets = tuple(
        OrderedTicket(f"t-{n}", status, None, False, share, "early")
        for n, share in enumerate((100_000, 100_000, 250_000))
    )
    return PaidOrder(
        order_id="TKT-t-0",
        ticket_id="t-0",
        transaction_id="x-1",
        event_id=EVENT_ID,
        ticket_status=status,
        transaction_status=TransactionStatus.PENDING,
        amount=450_000,
        refund_requested=False,
        cancel_reason=None,
        payment_sequence=None,
        refund_sequence=None,
        tickets=tickets,
    )


def settlement() -> PaymentSettledV3:
    return PaymentSettledV3(
        order_id="TKT-t-0",
        ticket_id="t-0",
        event_id=EVENT_ID,
        user_id="user-7",
        amount=450_000,
        customer_name="Siti",
        customer_email="siti@example.id",
        payment_type="qris",
        transaction_id="mt-1",
        settled_at=NOW,
        sequence=2,
        payment_status="settled",
        purchase_order_id="order-1",
        ticket_ids=["t-0", "t-1", "t-2"],
    )


async def test_one_settlement_activates_every_ticket_of_the_order() -> None:
    repo = FakePaidOrder(paid_order(TicketStatus.PENDING))

    await apply_payment_event(repo, settlement(), occurred_at=NOW, now=NOW)

    assert repo.moved == dict.fromkeys(("t-0", "t-1", "t-2"), TicketStatus.ACTIVE)
    assert repo.emitted == ["activated:t-0", "activated:t-1", "activated:t-2"]


async def test_late_money_keeps_the_seats_still_free_and_refunds_each_other_tickets_share() -> None:
    repo = FakePaidOrder(paid_order(TicketStatus.EXPIRED), free_seats=2)

    await apply_payment_event(repo, settlement(), occurred_at=NOW, now=NOW)

    assert repo.moved == {
        "t-0": TicketStatus.ACTIVE,
        "t-1": TicketStatus.ACTIVE,
        "t-2": TicketStatus.CANCELLED,
    }
    assert repo.emitted[-2:] == ["cancelled:t-2", "refund:t-2:250000"]
