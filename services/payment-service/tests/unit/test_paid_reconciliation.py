"""The paid reconciler with an in-memory store and a scripted Midtrans status API."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from payment_service.adapters.midtrans import (
    GatewayAnswer,
    MidtransError,
    MidtransUnavailable,
    TransactionNotFound,
)
from payment_service.adapters.repository import Payment
from payment_service.domain.model import PaymentStatus
from payment_service.service_layer.paid_reconciliation import PaidCadence, reconcile_paid

NOW = datetime.now(UTC)
CADENCE = PaidCadence(every_seconds=3600, refunds_every_seconds=300, batch=50)


def a_payment(order_id: str) -> Payment:
    values = dict(
        order_id=order_id,
        amount=150_000,
        currency="IDR",
        user_id="buyer-1",
        ticket_id="t-1",
        event_id="e-1",
        customer={},
        items=[],
        metadata={},
        expires_at=NOW,
        snap_token=None,
        redirect_url=None,
        snap_token_expires_at=None,
        status=PaymentStatus.SETTLED,
        transaction_status="settlement",
        fraud_status="accept",
        payment_type="gopay",
        transaction_id=f"trx-{order_id}",
        refunded_amount=0,
        settled_at=NOW,
        flagged_at=None,
        flag_reason=None,
        close_requested_at=None,
        created_at=NOW,
        updated_at=NOW,
        event_sequence=0,  # a field on branches where payment events carry a sequence
    )
    return Payment(**{k: v for k, v in values.items() if k in Payment.__dataclass_fields__})


@dataclass
class FakeChecks:
    due: list[str]
    claims: list[dict[str, Any]] = field(default_factory=list)
    applied: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    calls: list[tuple[str, int | None]] = field(default_factory=list)
    in_transaction: int = 0
    locked: bool = False

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        self.in_transaction += 1
        try:
            yield
        finally:
            self.in_transaction -= 1
            self.locked = False

    async def claim_paid(self, **cadence: Any) -> list[str]:
        self.claims.append(cadence)
        taken, self.due = self.due, []
        return taken

    async def payment(self, order_id: str, *, lock: bool = False) -> Payment | None:
        if lock:
            assert self.in_transaction
            self.locked = True
        return None if order_id == "gone" else a_payment(order_id)

    async def record_gateway_call(self, answer: GatewayAnswer, order_id: str) -> None:
        self.calls.append((order_id, answer.http_status))

    async def apply_gateway_body(self, payment: Payment, body: dict[str, Any]) -> None:
        assert self.locked, "the answer is applied under the payment's lock"
        self.applied.append((payment.order_id, body))


class ScriptedStatus:
    def __init__(self, checks: FakeChecks, answers: dict[str, dict[str, Any] | MidtransError]):
        self.checks = checks
        self.answers = answers
        self.asked: list[str] = []

    async def status(self, order_id: str) -> GatewayAnswer:
        assert not self.checks.locked, "Midtrans is asked holding the payment's lock"
        self.asked.append(order_id)
        answer = self.answers[order_id]
        if isinstance(answer, MidtransError):
            raise answer
        return GatewayAnswer("core.status", 200, answer, 4.0)


def checks_of(fake: FakeChecks):
    @asynccontextmanager
    async def checks() -> AsyncIterator[FakeChecks]:
        yield fake

    return checks


async def test_each_due_payment_is_asked_about_by_order_id_and_its_answer_applied() -> None:
    fake = FakeChecks(due=["A", "B"])
    refunded = {"transaction_status": "refund", "refund_amount": "150000.00"}
    midtrans = ScriptedStatus(fake, {"A": refunded, "B": {"transaction_status": "settlement"}})
    assert await reconcile_paid(checks_of(fake), midtrans, CADENCE) == 2
    assert fake.claims == [{"every_seconds": 3600, "refunds_every_seconds": 300, "limit": 50}]
    assert midtrans.asked == ["A", "B"]
    assert fake.applied == [("A", refunded), ("B", {"transaction_status": "settlement"})]
    assert fake.calls == [("A", 200), ("B", 200)]


async def test_an_outage_on_one_payment_does_not_stop_the_others() -> None:
    fake = FakeChecks(due=["A", "B"])
    down = MidtransUnavailable("down", GatewayAnswer("core.status", 503, None, 1.0))
    midtrans = ScriptedStatus(fake, {"A": down, "B": {"transaction_status": "deny"}})
    assert await reconcile_paid(checks_of(fake), midtrans, CADENCE) == 2
    assert fake.applied == [("B", {"transaction_status": "deny"})]
    assert fake.calls == [("A", 503), ("B", 200)]


async def test_a_paid_payment_midtrans_no_longer_knows_is_recorded_not_applied() -> None:
    fake = FakeChecks(due=["A"])
    missing = TransactionNotFound(
        "404", GatewayAnswer("core.status", 404, {"status_code": "404"}, 1)
    )
    await reconcile_paid(checks_of(fake), ScriptedStatus(fake, {"A": missing}), CADENCE)
    assert fake.applied == []
    assert fake.calls == [("A", 404)]


async def test_nothing_due_asks_nothing() -> None:
    fake = FakeChecks(due=[])
    midtrans = ScriptedStatus(fake, {})
    assert await reconcile_paid(checks_of(fake), midtrans, CADENCE) == 0
    assert midtrans.asked == []


async def test_a_payment_gone_meanwhile_is_skipped() -> None:
    fake = FakeChecks(due=["gone"])
    midtrans = ScriptedStatus(fake, {})
    assert await reconcile_paid(checks_of(fake), midtrans, CADENCE) == 1
    assert midtrans.asked == []
