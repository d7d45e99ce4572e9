"""The refund use cases with an in-memory store and a scripted Midtrans (no I/O)."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from payment_service.adapters.midtrans import (
    GatewayAnswer,
    MidtransRefused,
    MidtransUnavailable,
    TransactionNotFound,
)
from payment_service.adapters.repository import Payment
from payment_service.domain.errors import NotRefundable, PayoutConflict, RefundNotFound
from payment_service.domain.model import PaymentStatus
from payment_service.domain.refunds import (
    BankAccount,
    PartialRefundNotSupported,
    Refund,
    RefundMethod,
    RefundStatus,
)
from payment_service.service_layer import refunds
from payment_service.service_layer.refund_progress import settle_from_gateway

NOW = datetime.now(UTC)
S = RefundStatus


def a_payment(order_id: str = "TIX-1", **changes: Any) -> Payment:
    values = dict(
        order_id=order_id,
        amount=150_000,
        currency="IDR",
        user_id="buyer-1",
        ticket_id="t-1",
        event_id="e-1",
        customer={"name": "Siti", "email": "siti@example.id"},
        items=[],
        metadata={},
        expires_at=NOW,
        snap_token=None,
        redirect_url=None,
        snap_token_expires_at=None,
        status=PaymentStatus.SETTLED,
        transaction_status="settlement",
        fraud_status="accept",
        payment_type="credit_card",
        transaction_id="trx-1",
        refunded_amount=0,
        settled_at=NOW - timedelta(days=1),
        flagged_at=None,
        flag_reason=None,
        close_requested_at=None,
        created_at=NOW,
        updated_at=NOW,
        event_sequence=0,  # a field on branches where payment events carry a sequence
    )
    fields = Payment.__dataclass_fields__
    return replace(Payment(**{k: v for k, v in values.items() if k in fields}), **changes)


@dataclass
class FakeStore:
    payments: dict[str, Payment] = field(default_factory=dict)
    refunds: dict[str, Refund] = field(default_factory=dict)
    leased: set[str] = field(default_factory=set)
    announced: list[tuple[str, str, str]] = field(default_factory=list)  # key, status, verdict
    flagged: list[str] = field(default_factory=list)
    calls: list[int | None] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    applied: list[dict[str, Any]] = field(default_factory=list)
    in_transaction: int = 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        self.in_transaction += 1
        try:
            yield
        finally:
            self.in_transaction -= 1

    async def payment(self, order_id: str, *, lock: bool = False) -> Payment | None:
        assert not lock or self.in_transaction, "a row lock outside a transaction"
        return self.payments.get(order_id)

    async def refund(self, refund_key: str) -> Refund | None:
        return self.refunds.get(refund_key)

    async def refund_by_id(self, refund_id: uuid.UUID) -> Refund | None:
        return next((r for r in self.refunds.values() if r.refund_id == refund_id), None)

    async def refunds_of(self, order_id: str) -> list[Refund]:
        return [r for r in self.refunds.values() if r.order_id == order_id]

    async def committed_amount(self, order_id: str) -> int:
        held = {S.REQUESTED, S.PENDING, S.AWAITING_PAYOUT, S.PAID_OUT}
        return sum(r.amount for r in await self.refunds_of(order_id) if r.status in held)

    async def add_refund(self, **values: Any) -> Refund | None:
        if values["refund_key"] in self.refunds:
            return None
        values.pop("hold_seconds", None)
        refund = Refund(
            refund_id=uuid.uuid4(),
            user_id=self.payments[values["order_id"]].user_id,
            attempts=0,
            last_error=None,
            bank_account=None,
            payout_reference=None,
            paid_out_by=None,
            paid_out_at=None,
            created_at=NOW,
            updated_at=NOW,
            finished_at=None,
            **values,
        )
        self.refunds[refund.refund_key] = refund
        return refund

    async def claim_for_sending(self, refund_key: str, *, lease_seconds: float) -> Refund | None:
        refund = self.refunds.get(refund_key)
        if refund is None or refund.status is not S.REQUESTED or refund_key in self.leased:
            return None
        self.leased.add(refund_key)
        return refund

    async def due_refunds(self, limit: int) -> list[str]:
        return [k for k, r in self.refunds.items() if r.status is S.REQUESTED][:limit]

    async def move(self, refund_key: str, *, to: RefundStatus, only_from, **changes: Any):
        refund = self.refunds[refund_key]
        if refund.status not in only_from:
            return None
        method = changes.get("method") or refund.method
        error = changes.get("error") or refund.last_error
        self.refunds[refund_key] = replace(refund, status=to, method=method, last_error=error)
        return self.refunds[refund_key]

    async def postpone(self, refund_key: str, error: str) -> None:
        self.leased.discard(refund_key)
        self.refunds[refund_key] = replace(self.refunds[refund_key], last_error=error)

    async def set_bank_account(self, refund_id: uuid.UUID, account: BankAccount) -> bool:
        refund = await self.refund_by_id(refund_id)
        if refund is None or refund.status is not S.AWAITING_PAYOUT:
            return False
        self.refunds[refund.refund_key] = replace(refund, bank_account=account)
        return True

    async def mark_paid_out(self, refund_id: uuid.UUID, *, reference: str, admin_id: str) -> bool:
        refund = await self.refund_by_id(refund_id)
        assert refund is not None
        self.refunds[refund.refund_key] = replace(
            refund, status=S.PAID_OUT, payout_reference=reference, paid_out_by=admin_id
        )
        return True

    async def refunds_page(self, **query: Any) -> list[Refund]:
        return [r for r in self.refunds.values() if query["user_id"] in {None, r.user_id}]

    async def flag(self, order_id: str, reason: str) -> None:
        self.flagged.append(reason)

    async def record_gateway_call(self, answer: GatewayAnswer, order_id: str) -> None:
        self.calls.append(answer.http_status)

    async def note(self, payment: Payment, *, verdict: str, reason: str) -> None:
        self.notes.append(verdict)

    async def announce(self, payment, refund, *, payment_status, verdict, detail) -> None:
        assert self.in_transaction, "events are written in the change's transaction"
        self.announced.append((refund.refund_key, str(refund.status), verdict))

    async def apply_gateway_answer(self, payment, body, *, reason: str) -> PaymentStatus:
        self.applied.append(body)
        self.payments[payment.order_id] = replace(payment, status=PaymentStatus.CANCELLED)
        return PaymentStatus.CANCELLED


class FakeMidtrans:
    def __init__(self, store: FakeStore, error: Exception | None = None) -> None:
        self.store = store
        self.error = error
        self.sent: list[tuple[str, str, int | None]] = []

    async def refund(self, transaction_id: str, *, refund_key: str, amount: int, reason: str):
        return self._answer("refund", transaction_id, amount)

    async def cancel(self, transaction_id: str) -> GatewayAnswer:
        return self._answer("cancel", transaction_id, None)

    def _answer(self, what: str, transaction_id: str, amount: int | None) -> GatewayAnswer:
        assert self.store.in_transaction == 0, "Midtrans is called holding a lock"
        self.sent.append((what, transaction_id, amount))
        if self.error is not None:
            raise self.error
        status = "cancel" if what == "cancel" else "refund"
        return GatewayAnswer(f"core.{what}", 200, {"transaction_status": status}, 3.0)


def refused(code: int) -> MidtransRefused:
    body = {"status_code": str(code), "status_message": "Merchant cannot modify"}
    return MidtransRefused("refused", GatewayAnswer("core.refund", code, body, 2.0))


def stores_of(store: FakeStore):
    @asynccontextmanager
    async def stores() -> AsyncIterator[FakeStore]:
        yield store

    return stores


async def admin_refund(store: FakeStore, midtrans: FakeMidtrans, **kw: Any) -> Refund:
    args = {"order_id": "TIX-1", "amount": None, "reason": "moved", "request_id": None}
    return await refunds.request_admin_refund(
        stores_of(store), midtrans, admin_id="admin-1", **(args | kw)
    )


def with_payment(**changes: Any) -> FakeStore:
    store = FakeStore()
    store.payments["TIX-1"] = a_payment(**changes)
    return store


async def test_a_card_refund_is_pending_once_midtrans_accepts_it() -> None:
    store = with_payment()
    midtrans = FakeMidtrans(store)
    refund = await admin_refund(store, midtrans)
    assert (refund.method, refund.status, refund.amount) == (RefundMethod.API, S.PENDING, 150_000)
    assert midtrans.sent == [("refund", "trx-1", 150_000)]
    assert [s for _, s, _ in store.announced] == ["requested", "pending"]


async def test_the_same_admin_request_is_the_same_refund_and_sent_once() -> None:
    store = with_payment()
    midtrans = FakeMidtrans(store)
    first = await admin_refund(store, midtrans, request_id="support-1")
    again = await admin_refund(store, midtrans, request_id="support-1")
    assert first.refund_key == again.refund_key
    assert len(midtrans.sent) == 1
    assert len(store.announced) == 2


async def test_a_refund_someone_else_is_sending_is_not_sent_twice() -> None:
    store = with_payment()
    async with store.transaction():  # as ticket-service's event: inside the inbox transaction
        refund, _ = await refunds.request_refund(
            store,
            store.payments["TIX-1"],
            amount=None,
            reason="x",
            source="t",
            purpose="p",
            requested_by=None,
            partial_by_payout=True,
        )
    store.leased.add(refund.refund_key)  # another worker holds the lease
    midtrans = FakeMidtrans(store)
    assert (await refunds.carry_out_refund(stores_of(store), midtrans, refund.refund_key)) == refund
    assert midtrans.sent == []


@pytest.mark.parametrize("payment_type", ["bank_transfer", "echannel", "cstore"])
async def test_methods_without_a_refund_api_become_payouts_without_calling_midtrans(
    payment_type,
) -> None:
    store = with_payment(payment_type=payment_type)
    midtrans = FakeMidtrans(store)
    refund = await admin_refund(store, midtrans)
    assert (refund.method, refund.status) == (RefundMethod.PAYOUT, S.AWAITING_PAYOUT)
    assert midtrans.sent == []
    assert store.announced == [(refund.refund_key, "awaiting_payout", "payout_requested")]


async def test_a_captured_card_is_cancelled_and_the_refund_done_at_once() -> None:
    store = with_payment(status=PaymentStatus.CAPTURED)
    midtrans = FakeMidtrans(store)
    refund = await admin_refund(store, midtrans)
    assert midtrans.sent == [("cancel", "trx-1", None)]
    assert store.applied == [{"transaction_status": "cancel"}]
    assert refund.status is S.SUCCEEDED
    with pytest.raises(PartialRefundNotSupported):
        await admin_refund(with_payment(status=PaymentStatus.CAPTURED), midtrans, amount=1_000)


async def test_a_412_refusal_becomes_a_payout_and_flags_the_payment() -> None:
    store = with_payment(payment_type="gopay")
    refund = await admin_refund(store, FakeMidtrans(store, refused(412)))
    assert (refund.method, refund.status) == (RefundMethod.PAYOUT, S.AWAITING_PAYOUT)
    assert store.flagged
    assert store.calls == [412]


@pytest.mark.parametrize("error", [refused(414), refused(406)])
async def test_other_refusals_fail_the_refund_and_flag_the_payment(error) -> None:
    store = with_payment()
    refund = await admin_refund(store, FakeMidtrans(store, error))
    assert refund.status is S.FAILED
    assert store.flagged


async def test_a_transaction_midtrans_does_not_know_fails_the_refund() -> None:
    store = with_payment()
    error = TransactionNotFound(
        "gone", GatewayAnswer("core.refund", 404, {"status_code": "404"}, 1)
    )
    assert (await admin_refund(store, FakeMidtrans(store, error))).status is S.FAILED


async def test_an_outage_postpones_the_refund_and_the_job_sends_it_later() -> None:
    store = with_payment()
    down = MidtransUnavailable("down", GatewayAnswer("core.refund", 503, None, 1))
    refund = await admin_refund(store, FakeMidtrans(store, down))
    assert refund.status is S.REQUESTED
    assert store.flagged == []
    midtrans = FakeMidtrans(store)
    assert await refunds.retry_due_refunds(stores_of(store), midtrans) == 1
    assert store.refunds[refund.refund_key].status is S.PENDING


async def test_nothing_more_than_what_is_left_can_be_refunded() -> None:
    store = with_payment(payment_type="bank_transfer")
    await admin_refund(store, FakeMidtrans(store), amount=100_000, request_id="a")
    with pytest.raises(NotRefundable):  # the payout still holds 100,000 of it
        await admin_refund(store, FakeMidtrans(store), amount=60_000, request_id="b")
    rest = await admin_refund(store, FakeMidtrans(store), request_id="c")
    assert rest.amount == 50_000
    with pytest.raises(NotRefundable):
        await admin_refund(with_payment(status=PaymentStatus.PENDING), FakeMidtrans(store))


async def test_a_payout_needs_the_buyers_bank_account_and_closes_once() -> None:
    store = with_payment(payment_type="cstore")
    refund = await admin_refund(store, FakeMidtrans(store))
    stores, rid = stores_of(store), str(refund.refund_id)
    with pytest.raises(PayoutConflict):
        await refunds.close_payout(stores, rid, reference="T-1", admin_id="admin-1")
    account = BankAccount.parse("bni", "0123456789", "Siti Rahma")
    with pytest.raises(RefundNotFound):
        await refunds.give_bank_account(stores, rid, "someone-else", account)
    given = await refunds.give_bank_account(stores, rid, "buyer-1", account)
    assert given.bank_account == account
    assert store.notes == ["bank_account_given"]
    done = await refunds.close_payout(stores, rid, reference="T-1", admin_id="admin-1")
    assert (done.status, done.payout_reference) == (S.PAID_OUT, "T-1")
    again = await refunds.close_payout(stores, rid, reference="T-1", admin_id="admin-2")
    assert again == done
    with pytest.raises(PayoutConflict):
        await refunds.close_payout(stores, rid, reference="T-2", admin_id="admin-1")
    with pytest.raises(PayoutConflict):  # nothing to pay out any more
        await refunds.give_bank_account(stores, rid, "buyer-1", account)
    assert [s for _, s, _ in store.announced] == ["awaiting_payout", "paid_out"]


async def test_a_buyer_sees_only_their_own_refunds() -> None:
    store = with_payment(payment_type="echannel")
    refund = await admin_refund(store, FakeMidtrans(store))
    stores = stores_of(store)
    mine = refunds.RefundCaller("buyer-1", is_admin=False)
    other = refunds.RefundCaller("buyer-2", is_admin=False)
    assert await refunds.refund_for(stores, str(refund.refund_id), mine) == refund
    for caller, rid in [(other, str(refund.refund_id)), (mine, "not-a-uuid")]:
        with pytest.raises(RefundNotFound):
            await refunds.refund_for(stores, rid, caller)
    page = {"status": None, "order_id": None, "after": None, "limit": 10}
    assert await refunds.refunds_page(stores, other, **page) == []
    assert await refunds.refunds_page(stores, mine, **page) == [refund]


async def test_midtrans_final_word_confirms_our_refund_and_records_the_dashboards() -> None:
    store = with_payment()
    refund = await admin_refund(store, FakeMidtrans(store), amount=50_000)
    body = {
        "refunds": [
            {"refund_key": refund.refund_key, "refund_amount": "50000.00"},
            {"refund_key": "dash-9", "refund_amount": "20000.00", "reason": "dashboard"},
        ]
    }
    async with store.transaction():
        for _ in range(2):  # a redelivered notification changes nothing more
            await settle_from_gateway(
                store,
                store.payments["TIX-1"],
                status=PaymentStatus.PARTIALLY_REFUNDED,
                refunded_total=70_000,
                body=body,
            )
    assert store.refunds[refund.refund_key].status is S.SUCCEEDED
    # Midtrans' refund_key is unique per transaction only: ours is scoped by the order.
    dash = store.refunds["TIX-1:dash-9"]
    assert (dash.source, dash.status, dash.amount) == ("midtrans", S.SUCCEEDED, 20_000)
    assert [v for _, _, v in store.announced] == [
        "refund_requested",
        "refund_pending",
        "refund_succeeded",
        "refund_found",
    ]


async def test_two_orders_dashboard_refunds_with_the_same_midtrans_key_are_both_recorded() -> None:
    # The dashboard (and the sandbox) numbers refunds refund-1, refund-2, ... per transaction.
    store = FakeStore()
    for order_id in ("TIX-1", "TIX-2"):
        store.payments[order_id] = a_payment(order_id)
    body = {"refunds": [{"refund_key": "refund-1", "refund_amount": "20000.00"}]}
    async with store.transaction():
        for order_id in ("TIX-1", "TIX-2", "TIX-1"):  # the last one: a redelivery
            await settle_from_gateway(
                store,
                store.payments[order_id],
                status=PaymentStatus.PARTIALLY_REFUNDED,
                refunded_total=20_000,
                body=body,
            )
    assert sorted(store.refunds) == ["TIX-1:refund-1", "TIX-2:refund-1"]
    assert [v for _, _, v in store.announced] == ["refund_found", "refund_found"]
