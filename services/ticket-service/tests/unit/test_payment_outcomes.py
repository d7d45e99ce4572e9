"""Payment events -> ticket states on an in-memory order: every delivery order of a payment's
events ends where its newest event says, and a refunded payment never leaves an active ticket."""

import dataclasses
import itertools
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ticket_service.domain.payments import Order, PaymentAttempt, Progress, Refund
from ticket_service.domain.tickets import TicketStatus, TransactionStatus
from ticket_service.service_layer.activation import Applied, apply_payment_event
from ticketing_contracts import (
    EventPayload,
    PaymentDeclined,
    PaymentFailed,
    PaymentFailedV2,
    PaymentRefunded,
    PaymentRefundedV2,
    PaymentRefundUpdated,
    PaymentSettled,
    PaymentSettledV2,
)

AMOUNT = 50_000
ORDER_ID = "TKT-1"
T0 = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)


@dataclass
class FakeOrders:
    """One order of one event: the seat counters, the ticket, its transaction and the outbox."""

    order: Order
    capacity: int = 10
    sold: int = 0
    held: int = 1
    transaction: dict[str, Any] = field(default_factory=dict)
    attempt: PaymentAttempt | None = None
    refund: Refund | None = None
    payment_status: str | None = None
    emitted: list[str] = field(default_factory=list)

    async def lock_order(self, order_id: str) -> Order | None:
        return self.order if order_id == self.order.order_id else None

    async def move_seats(self, event_id: str, *, sold: int = 0, held: int = 0) -> None:
        self.sold += sold
        self.held += held
        assert self.sold >= 0 and self.held >= 0, (self.sold, self.held)
        assert self.sold + self.held <= self.capacity

    async def take_free_seat(self, event_id: str) -> bool:
        if self.sold + self.held >= self.capacity:
            return False
        self.sold += 1
        return True

    async def move_ticket(
        self,
        order: Order,
        target: TicketStatus,
        *,
        now: datetime,
        cancelled_by: str | None = None,
        cancel_reason: str | None = None,
    ) -> None:
        reason = cancel_reason if target is TicketStatus.CANCELLED else self.order.cancel_reason
        self.order = dataclasses.replace(self.order, ticket_status=target, cancel_reason=reason)

    async def activate(
        self, order: Order, *, now: datetime, completed_at: datetime, **payment: Any
    ) -> None:
        await self.move_ticket(order, TicketStatus.ACTIVE, now=now)
        await self.update_transaction(
            order, TransactionStatus.COMPLETED, now=now, completed_at=completed_at, **payment
        )
        await self.record_attempt(order, PaymentAttempt("paid", None, completed_at))

    async def update_transaction(
        self, order: Order, status: TransactionStatus, *, now: datetime, **fields: Any
    ) -> None:
        requested = self.order.refund_requested or bool(fields.pop("refund_requested", False))
        self.order = dataclasses.replace(
            self.order, transaction_status=status, refund_requested=requested
        )
        self.transaction.update({k: v for k, v in fields.items() if v is not None})

    async def record_progress(self, order: Order, progress: Progress) -> None:
        self.order = dataclasses.replace(self.order, payment_sequence=progress.sequence)
        self.payment_status = progress.payment_status

    async def record_attempt(self, order: Order, attempt: PaymentAttempt) -> None:
        self.attempt = attempt

    async def record_refund(self, order: Order, refund: Refund) -> None:
        self.refund = refund
        self.order = dataclasses.replace(self.order, refund_sequence=refund.sequence)

    async def announce_activated(self, order: Order, *, at: datetime) -> None:
        self.emitted.append("ticket.activated")

    async def announce_cancelled(self, order: Order, *, at: datetime, by: str, reason: str) -> None:
        self.emitted.append(f"ticket.cancelled:{reason}")

    async def announce_refund_requested(self, order: Order, *, amount: int, reason: str) -> None:
        self.emitted.append("ticket.refund_requested")


def pending_order(**overrides: Any) -> FakeOrders:
    order = Order(
        order_id=ORDER_ID,
        ticket_id="t-1",
        transaction_id="x-1",
        event_id="e-1",
        ticket_status=TicketStatus.PENDING,
        transaction_status=TransactionStatus.PENDING,
        amount=AMOUNT,
        refund_requested=False,
        cancel_reason=None,
        payment_sequence=None,
        refund_sequence=None,
    )
    return FakeOrders(order=order, **overrides)


FACTS: dict[str, Any] = {
    "order_id": ORDER_ID,
    "ticket_id": "t-1",
    "event_id": "e-1",
    "user_id": "buyer-1",
    "amount": AMOUNT,
    "payment_type": "credit_card",
    "transaction_id": "mt-1",
    "customer_name": "Siti",
    "customer_email": "siti@example.id",
}


def settled(seq: int, status: str = "settled") -> PaymentSettledV2:
    return PaymentSettledV2(**FACTS, settled_at=T0, sequence=seq, payment_status=status)


def failed(seq: int, how: str = "deny", status: str = "reversed") -> PaymentFailedV2:
    return PaymentFailedV2(
        **FACTS,
        transaction_status=how,
        sequence=seq,
        payment_status=status,  # type: ignore[arg-type]
    )


def refunded(seq: int, amount: int = AMOUNT, total: int = AMOUNT) -> PaymentRefundedV2:
    full = total >= AMOUNT
    return PaymentRefundedV2(
        **FACTS,
        refund_amount=amount,
        refunded_total=total,
        fully_refunded=full,
        transaction_status="refund" if full else "partial_refund",
        sequence=seq,
        payment_status="refunded" if full else "partially_refunded",
    )


def chargeback(seq: int) -> PaymentRefundedV2:
    return PaymentRefundedV2(
        **FACTS,
        refund_amount=AMOUNT,
        refunded_total=AMOUNT,
        fully_refunded=True,
        transaction_status="chargeback",
        sequence=seq,
        payment_status="charged_back",
    )


def declined(seq: int) -> PaymentDeclined:
    return PaymentDeclined(
        **FACTS, sequence=seq, payment_status="pending", reason="card declined by the bank"
    )


def refund_update(
    seq: int, status: str, *, payment_status: str = "settled", method: str = "api"
) -> PaymentRefundUpdated:
    return PaymentRefundUpdated(
        **FACTS,
        sequence=seq,
        payment_status=payment_status,
        refund_id="rf-1",
        refund_amount=AMOUNT,
        method=method,  # type: ignore[arg-type]
        refund_status=status,  # type: ignore[arg-type]
        reason="event cancelled",
    )


async def deliver(orders: FakeOrders, *events: EventPayload) -> list[Applied]:
    results = []
    for i, event in enumerate(events):
        at = T0 + timedelta(seconds=i)
        results.append(await apply_payment_event(orders, event, occurred_at=at, now=at))
    return results


# --- the property: every delivery order ------------------------------------------------------

Final = tuple[TicketStatus, TransactionStatus]
ACTIVE: Final = (TicketStatus.ACTIVE, TransactionStatus.COMPLETED)
REFUNDED: Final = (TicketStatus.REFUNDED, TransactionStatus.REFUNDED)
REVERSED: Final = (TicketStatus.CANCELLED, TransactionStatus.FAILED)
REFUNDING: Final = (TicketStatus.CANCELLED, TransactionStatus.CANCELLED)

# A payment's history as payment-service publishes it (sequence = position + 1), and the state
# its newest event implies.
HISTORIES: dict[str, tuple[list[EventPayload], Final]] = {
    "settled": ([settled(1)], ACTIVE),
    "settled, refunded": ([settled(1), refunded(2)], REFUNDED),
    "settled, reversed (deny after settlement)": ([settled(1), failed(2)], REVERSED),
    "captured, cancelled": ([settled(1, "captured"), failed(2, "cancel", "cancelled")], REVERSED),
    "declined, settled": ([declined(1), settled(2)], ACTIVE),
    "declined, declined, settled": ([declined(1), declined(2), settled(3)], ACTIVE),
    "settled, partial refund": ([settled(1), refunded(2, 20_000, 20_000)], ACTIVE),
    "settled, partial refund, refund": (
        [settled(1), refunded(2, 20_000, 20_000), refunded(3, 30_000, AMOUNT)],
        REFUNDED,
    ),
    "settled, chargeback": ([settled(1), chargeback(2)], REFUNDED),
    "declined, settled, refund requested, pending, refunded, succeeded": (
        [
            declined(1),
            settled(2),
            refund_update(3, "requested"),
            refund_update(4, "pending"),
            refunded(5),
            refund_update(6, "succeeded", payment_status="refunded"),
        ],
        REFUNDED,
    ),
    "settled (VA), payout awaiting, paid out": (
        [
            settled(1),
            refund_update(2, "awaiting_payout", method="payout"),
            refund_update(3, "paid_out", payment_status="refunded", method="payout"),
        ],
        REFUNDED,
    ),
    "settled (VA), payout awaiting": (
        [settled(1), refund_update(2, "awaiting_payout", method="payout")],
        REFUNDING,
    ),
}


def standing_is_paid(event: EventPayload) -> bool | None:
    """The oracle: does this event say the money is ours (True), gone (False), or neither?"""
    match event:
        case PaymentDeclined():
            return None
        case PaymentSettled():
            return True
        case PaymentRefunded():
            return not event.fully_refunded
        case PaymentRefundUpdated():
            if event.refund_status == "failed":
                return None
            return event.refund_amount < AMOUNT and event.payment_status != "refunded"
    return False


def expected_activations(delivery: tuple[EventPayload, ...]) -> int:
    """Applied events are those newer than all delivered before; the ticket is activated iff
    the first applied event that says anything about the money says it is ours."""
    newest = 0
    for event in delivery:
        sequence: int = event.sequence  # type: ignore[attr-defined]
        if sequence <= newest:
            continue
        newest = sequence
        paid = standing_is_paid(event)
        if paid is not None:
            return 1 if paid else 0
    return 0


def refund_carrying(events: list[EventPayload]) -> EventPayload | None:
    carrying = [e for e in events if isinstance(e, PaymentRefunded | PaymentRefundUpdated)]
    return max(carrying, key=lambda e: e.sequence) if carrying else None  # type: ignore[attr-defined]


async def check_every_delivery_order(name: str) -> int:
    history, final = HISTORIES[name]
    newest = max(history, key=lambda e: e.sequence)  # type: ignore[attr-defined]
    # Each event delivered once, plus the newest delivered twice (a duplicate notification
    # upstream becomes a second event with the same sequence).
    events = [*history, newest.model_copy()]
    shown = refund_carrying(history)
    tried = 0
    for delivery in itertools.permutations(events):
        orders = pending_order()
        await deliver(orders, *delivery)
        tried += 1
        where = (name, [type(e).__name__ for e in delivery], orders.emitted)
        state = (orders.order.ticket_status, orders.order.transaction_status)
        assert state == final, (*where, state)
        activated = orders.emitted.count("ticket.activated")
        assert activated == expected_activations(delivery), where
        assert activated <= 1, where
        assert "ticket.refund_requested" not in orders.emitted, where  # payment-service has it
        if final[0] is TicketStatus.ACTIVE:
            assert (orders.sold, orders.held) == (1, 0), where
        else:
            assert (orders.sold, orders.held) == (0, 0), where  # seat and hold both released
        assert orders.order.payment_sequence == newest.sequence, where  # type: ignore[attr-defined]
        if shown is None:
            assert orders.refund is None, where
        else:
            assert orders.refund is not None, where
            assert orders.refund.sequence == shown.sequence, where  # type: ignore[attr-defined]
    return tried


async def test_every_delivery_order_ends_where_the_newest_event_says() -> None:
    tried = {name: await check_every_delivery_order(name) for name in HISTORIES}
    total = sum(tried.values())
    print(f"\ndelivery orders tried: {total} over {len(tried)} payment histories")
    assert total == sum(math.factorial(len(h) + 1) for h, _ in HISTORIES.values())


# --- single cases, named ---------------------------------------------------------------------


async def test_refund_before_its_settlement_leaves_the_ticket_refunded_and_never_active() -> None:
    orders = pending_order()
    results = await deliver(orders, refunded(3), settled(2))
    assert results == [Applied.APPLIED, Applied.STALE]
    assert orders.order.ticket_status is TicketStatus.REFUNDED
    assert "ticket.activated" not in orders.emitted
    assert (orders.sold, orders.held) == (0, 0)
    assert orders.refund is not None and orders.refund.status == "succeeded"


async def test_a_declined_attempt_keeps_the_hold_and_a_later_settlement_activates() -> None:
    orders = pending_order()
    await deliver(orders, declined(1))
    assert orders.order.ticket_status is TicketStatus.PENDING
    assert (orders.sold, orders.held) == (0, 1)
    assert orders.attempt is not None and orders.attempt.result == "declined"
    assert orders.attempt.reason == "card declined by the bank"
    assert orders.emitted == []
    await deliver(orders, settled(2))
    assert orders.order.ticket_status is TicketStatus.ACTIVE
    assert orders.emitted == ["ticket.activated"]
    assert orders.attempt is not None and orders.attempt.result == "paid"


async def test_an_event_not_newer_than_the_applied_one_changes_nothing() -> None:
    orders = pending_order()
    assert await deliver(orders, settled(2), settled(2), declined(1)) == [
        Applied.APPLIED,
        Applied.STALE,
        Applied.STALE,
    ]
    assert orders.emitted == ["ticket.activated"]
    assert orders.attempt is not None and orders.attempt.result == "paid"


async def test_a_stale_refund_update_is_not_shown_over_a_newer_one() -> None:
    orders = pending_order()
    await deliver(orders, settled(1), refund_update(3, "succeeded"), refund_update(2, "pending"))
    assert orders.refund is not None and orders.refund.status == "succeeded"


async def test_v1_events_keep_the_state_based_rules() -> None:
    v1 = {k: v for k, v in FACTS.items()}
    orders = pending_order()
    await deliver(orders, PaymentSettled(**v1, settled_at=T0))
    assert orders.order.ticket_status is TicketStatus.ACTIVE
    assert orders.order.payment_sequence is None
    await deliver(orders, PaymentFailed(**v1, transaction_status="deny"))
    assert orders.order.ticket_status is TicketStatus.CANCELLED
    assert (orders.sold, orders.held) == (0, 0)


async def test_a_v1_refund_overtaking_its_settlement_still_never_activates() -> None:
    orders = pending_order()
    full = PaymentRefunded(
        **FACTS,
        refund_amount=AMOUNT,
        refunded_total=AMOUNT,
        fully_refunded=True,
        transaction_status="refund",
    )
    await deliver(orders, full, PaymentSettled(**FACTS, settled_at=T0))
    assert orders.order.ticket_status is TicketStatus.REFUNDED
    assert "ticket.activated" not in orders.emitted


async def test_late_money_takes_a_free_seat_back() -> None:
    orders = pending_order(held=0)
    orders.order = dataclasses.replace(orders.order, ticket_status=TicketStatus.EXPIRED)
    await deliver(orders, settled(3))
    assert orders.order.ticket_status is TicketStatus.ACTIVE
    assert orders.sold == 1
    assert orders.emitted == ["ticket.activated"]


async def test_late_money_for_a_sold_out_event_is_cancelled_and_refund_requested() -> None:
    orders = pending_order(held=0, capacity=1, sold=1)
    orders.order = dataclasses.replace(orders.order, ticket_status=TicketStatus.EXPIRED)
    await deliver(orders, settled(3))
    assert orders.order.ticket_status is TicketStatus.CANCELLED
    assert orders.order.cancel_reason == "late_payment_sold_out"
    assert orders.order.refund_requested
    assert orders.emitted == ["ticket.cancelled:late_payment_sold_out", "ticket.refund_requested"]


async def test_an_unknown_order_changes_nothing() -> None:
    orders = pending_order()
    other = settled(1).model_copy(update={"order_id": "TKT-other"})
    assert await deliver(orders, other) == [Applied.UNKNOWN_ORDER]
    assert orders.emitted == []


# --- one per outcome, on a pending or active ticket ---------------------------------------------


async def test_a_settlement_activates_the_hold_and_sells_its_seat() -> None:
    orders = pending_order()
    assert await deliver(orders, settled(1)) == [Applied.APPLIED]
    assert orders.order.ticket_status is TicketStatus.ACTIVE
    assert orders.order.transaction_status is TransactionStatus.COMPLETED
    assert (orders.sold, orders.held) == (1, 0)
    assert orders.emitted == ["ticket.activated"]


async def test_a_failed_payment_cancels_the_hold_and_frees_it() -> None:
    orders = pending_order()
    await deliver(orders, failed(1, how="expire", status="expired"))
    assert orders.order.ticket_status is TicketStatus.CANCELLED
    assert orders.order.transaction_status is TransactionStatus.FAILED
    assert (orders.sold, orders.held) == (0, 0)
    assert orders.emitted == ["ticket.cancelled:payment_expire"]


async def test_a_full_refund_of_an_active_ticket_frees_its_seat() -> None:
    orders = pending_order()
    await deliver(orders, settled(1), refunded(2))
    assert orders.order.ticket_status is TicketStatus.REFUNDED
    assert orders.order.transaction_status is TransactionStatus.REFUNDED
    assert (orders.sold, orders.held) == (0, 0)
    assert orders.emitted == ["ticket.activated", "ticket.cancelled:refunded"]
