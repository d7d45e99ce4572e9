"""Turning payment events into ticket states, exactly once and whatever the delivery order.

Each event runs inside the inbox transaction (servicekit), so a redelivered event id has no
second effect; a *different* event about the same order (a duplicate notification upstream) is
harmless too, because every move is checked against the order's current state, which is locked
for the whole handler. A v2 event carries its payment's `sequence`: the order remembers the
highest one applied and an event that is not newer changes nothing, so a refund delivered before
its settlement is never undone by the late settlement. A v1 event (no sequence) is applied on
the current state alone, as before.
"""

import dataclasses
import logging
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from servicekit.logs import log_fields
from ticketing_contracts import (
    EventPayload,
    PaymentDeclined,
    PaymentFailed,
    PaymentFailedV2,
    PaymentRefunded,
    PaymentRefundedV2,
    PaymentRefundUpdated,
    PaymentRefundUpdatedV2,
    PaymentSettled,
    PaymentSettledV2,
)

from ticket_service.domain.payments import (
    PAID_STATUSES,
    REFUND_DONE,
    Order,
    PaymentAttempt,
    Progress,
    Refund,
    Standing,
    refund_standing,
)
from ticket_service.domain.tickets import TicketStatus, TransactionStatus, check_move
from ticket_service.service_layer.receipts import Bookkeeping

logger = logging.getLogger(__name__)

LATE_PAYMENT_SOLD_OUT = "late_payment_sold_out"
REFUNDED = "refunded"
REVERSALS = frozenset({"deny", "cancel"})
_V2 = (PaymentSettledV2, PaymentFailedV2, PaymentRefundedV2, PaymentDeclined, PaymentRefundUpdated)


class PaymentOutcomesRepository(Protocol):
    """What applying a payment event needs; every call runs in the caller's transaction."""

    async def lock_order(self, order_id: str) -> Order | None: ...

    async def move_seats(self, event_id: str, *, sold: int = 0, held: int = 0) -> None: ...

    async def take_free_seat(self, event_id: str, *, ticket_type_id: str | None = None) -> bool:
        """Sell one seat only if the event, the type and its quotas have one, in one statement."""

    async def move_ticket(
        self,
        order: Order,
        target: TicketStatus,
        *,
        now: datetime,
        cancelled_by: str | None = None,
        cancel_reason: str | None = None,
    ) -> None: ...

    async def activate(
        self,
        order: Order,
        *,
        now: datetime,
        completed_at: datetime,
        payment_method: str | None,
        payment_gateway_id: str | None,
        gateway_report: dict[str, Any],
    ) -> None:
        """The ticket `active`, its transaction `completed` by this payment, the attempt paid."""

    async def update_transaction(
        self,
        order: Order,
        status: TransactionStatus,
        *,
        now: datetime,
        completed_at: datetime | None = None,
        payment_method: str | None = None,
        payment_gateway_id: str | None = None,
        gateway_report: dict[str, Any] | None = None,
        refund_requested: bool = False,
    ) -> None: ...

    async def record_progress(self, order: Order, progress: Progress) -> None: ...

    async def record_attempt(self, order: Order, attempt: PaymentAttempt) -> None: ...

    async def record_refund(self, order: Order, refund: Refund) -> None: ...

    async def announce_activated(self, order: Order, *, at: datetime) -> None:
        """Write `ticket.activated` (with the signed QR) to the outbox."""

    async def announce_cancelled(
        self, order: Order, *, at: datetime, by: str, reason: str
    ) -> None: ...

    async def announce_refund_requested(
        self, order: Order, *, amount: int, reason: str
    ) -> None: ...


class Applied(StrEnum):
    APPLIED = "applied"
    STALE = "stale"  # not newer than what the order already applied
    UNKNOWN_ORDER = "unknown_order"


def progress_of(payload: EventPayload) -> Progress | None:
    if isinstance(payload, _V2):
        return Progress(payload.sequence, payload.payment_status)
    return None


async def apply_payment_event(
    repo: PaymentOutcomesRepository,
    payload: EventPayload,
    *,
    occurred_at: datetime,
    now: datetime,
    books: Bookkeeping | None = None,
) -> Applied:
    """Apply one payment.* event to its order.

    `occurred_at` (the envelope's) dates what the event reports (a declined attempt, a refund's
    update); `now` dates the moves made here (activated_at, cancelled_at, ...). With `books`, a
    paid order gets its receipt and money going back its credit note, in this transaction.
    """
    order_id = str(getattr(payload, "order_id", ""))
    order = await repo.lock_order(order_id)
    if order is None:
        # Not ours (another product's order) or from before a data reset: nothing to move.
        logger.warning("payment event for an unknown order", extra=log_fields(order_id=order_id))
        return Applied.UNKNOWN_ORDER
    progress = progress_of(payload)
    if isinstance(payload, PaymentRefundUpdated | PaymentRefunded):
        # The refund shown to the buyer converges on its newest update, even when a newer
        # payment event made this one stale for the ticket.
        await _record_refund(repo, order, payload, occurred_at, progress)
        returned = money_returned(payload)
        if books is not None and returned is not None:
            amount, key = returned
            await books.money_returned(
                order.purchase_order_id, amount=amount, refund_key=key, now=now
            )
    if progress is not None:
        if order.is_stale(progress):
            logger.info(
                "stale payment event ignored (sequence %s, applied %s)",
                progress.sequence,
                order.payment_sequence,
                extra=log_fields(order_id=order_id),
            )
            return Applied.STALE
        await repo.record_progress(order, progress)
    await _Application(repo, order, now=now, occurred_at=occurred_at, books=books).apply(payload)
    return Applied.APPLIED


def money_returned(payload: PaymentRefundUpdated | PaymentRefunded) -> tuple[int, str] | None:
    """How much went back and a key naming that refund once, for its credit note.

    Midtrans reports an API refund (or chargeback) as `payment.refunded`, whose running total
    names it; a payout (a method Midtrans cannot refund) ends as the refund's `paid_out`.
    """
    if isinstance(payload, PaymentRefunded):
        return payload.refund_amount, f"refunded-total:{payload.refunded_total}"
    if payload.refund_status == "paid_out":
        return payload.refund_amount, f"payout:{payload.refund_id}"
    return None


async def _record_refund(
    repo: PaymentOutcomesRepository,
    order: Order,
    payload: PaymentRefundUpdated | PaymentRefunded,
    occurred_at: datetime,
    progress: Progress | None,
) -> None:
    sequence = progress.sequence if progress else None
    if order.refund_is_stale(sequence):
        return
    if isinstance(payload, PaymentRefundUpdated):
        refund = Refund(
            id=payload.refund_id,
            amount=payload.refund_amount,
            method=payload.method,
            status=payload.refund_status,
            reason=payload.reason,
            reference=payload.reference,
            updated_at=occurred_at,
            sequence=sequence,
        )
    else:
        # Midtrans reported the refund (or chargeback) done: the money is back.
        refund = Refund(
            id=None,
            amount=payload.refund_amount,
            method="api",
            status="succeeded",
            reason=payload.reason or payload.transaction_status,
            reference=None,
            updated_at=occurred_at,
            sequence=sequence,
        )
    await repo.record_refund(order, refund)


class _Application:
    """One event applied to one locked order; `order` follows the moves made."""

    def __init__(
        self,
        repo: PaymentOutcomesRepository,
        order: Order,
        *,
        now: datetime,
        occurred_at: datetime,
        books: Bookkeeping | None = None,
    ) -> None:
        self.repo = repo
        self.books = books
        self.order = order
        self.now = now
        self.occurred_at = occurred_at
        self.fields = log_fields(order_id=order.order_id, ticket_id=order.ticket_id)
        self.share: int | None = None  # the current ticket's part of the amount (None: all)

    async def apply(self, payload: EventPayload) -> None:
        """Every ticket the payment pays for, in turn; the transaction's state carries over."""
        if not self.order.tickets:
            await self.apply_to_ticket(payload)
            return
        for ticket in self.order.tickets:
            self.order = self.order.for_ticket(ticket)
            self.share = ticket.share
            self.fields = log_fields(order_id=self.order.order_id, ticket_id=ticket.ticket_id)
            await self.apply_to_ticket(payload)

    async def apply_to_ticket(self, payload: EventPayload) -> None:
        match payload:
            case PaymentSettled():
                await self.paid(payload, payload.settled_at, {"settled": _settled_report(payload)})
            case PaymentFailed():
                await self.failed(payload)
            case PaymentRefunded():
                await self.refunded(payload)
            case PaymentDeclined():
                await self.declined(payload)
            case PaymentRefundUpdated():
                await self.refund_updated(payload)
            case _:
                logger.info("payment event of no concern", extra=self.fields)

    # --- moves ---------------------------------------------------------------------------------

    async def move(
        self, target: TicketStatus, *, cancelled_by: str | None = None, reason: str | None = None
    ) -> None:
        check_move(self.order.ticket_status, target)
        await self.repo.move_ticket(
            self.order, target, now=self.now, cancelled_by=cancelled_by, cancel_reason=reason
        )
        self.order = dataclasses.replace(
            self.order,
            ticket_status=target,
            cancel_reason=reason if target is TicketStatus.CANCELLED else self.order.cancel_reason,
        )

    async def transaction(self, status: TransactionStatus, **fields: Any) -> None:
        await self.repo.update_transaction(self.order, status, now=self.now, **fields)
        self.order = dataclasses.replace(
            self.order,
            transaction_status=status,
            refund_requested=self.order.refund_requested or bool(fields.get("refund_requested")),
        )

    async def cancel(self, reason: str) -> None:
        await self.move(TicketStatus.CANCELLED, cancelled_by="system", reason=reason)
        await self.repo.announce_cancelled(self.order, at=self.now, by="system", reason=reason)

    # --- standings -----------------------------------------------------------------------------

    async def paid(
        self,
        facts: PaymentSettled | PaymentRefunded | PaymentRefundUpdated,
        completed_at: datetime,
        report: dict[str, Any],
    ) -> None:
        """The money is ours: activate, take a seat back, or ask for the money to go back."""
        status = self.order.ticket_status
        if facts.amount != self.order.amount and self.order.ticket_id == self._first_ticket:
            logger.error("paid amount differs from the order's", extra=self.fields)
        payment = {
            "payment_method": facts.payment_type,
            "payment_gateway_id": facts.transaction_id,
            "gateway_report": report,
        }
        if status is TicketStatus.PENDING:
            await self.activate(completed_at, payment)
            # The event's row is the one every purchase and settlement of the event queues on:
            # it is locked last, so it is held only for this statement and the commit.
            await self.repo.move_seats(self.order.event_id, sold=1, held=-1)
        elif status is TicketStatus.EXPIRED:
            if self.books is not None:
                # The receipt counter before the event's row, as on the usual path above (the
                # receipt, then the seat): else this and another payment of the host deadlock.
                await self.books.hold_numbering(self.order.purchase_order_id)
            if await self._take_free_seat():
                logger.info("late payment took a free seat back", extra=self.fields)
                await self.activate(completed_at, payment)
            else:
                logger.warning("late payment, event sold out: refund requested", extra=self.fields)
                await self.cancel(LATE_PAYMENT_SOLD_OUT)
                await self.request_refund(self._part_of(facts.amount), payment)
        elif status is TicketStatus.CANCELLED and not self.order.refund_requested:
            # Paid for a ticket cancelled meanwhile (by its holder, the host, or a failure).
            await self.request_refund(self._part_of(facts.amount), payment)
        else:
            logger.info("a payment changes nothing for a %s ticket", status, extra=self.fields)

    @property
    def _first_ticket(self) -> str:
        return self.order.tickets[0].ticket_id if self.order.tickets else self.order.ticket_id

    def _part_of(self, amount: int) -> int:
        """What goes back for the current ticket: its share, or all of a one-ticket payment."""
        return amount if self.share is None or len(self.order.tickets) <= 1 else self.share

    async def _take_free_seat(self) -> bool:
        if self.order.ticket_type_id is None:
            return await self.repo.take_free_seat(self.order.event_id)
        return await self.repo.take_free_seat(
            self.order.event_id, ticket_type_id=self.order.ticket_type_id
        )

    async def activate(self, completed_at: datetime, payment: dict[str, Any]) -> None:
        check_move(self.order.ticket_status, TicketStatus.ACTIVE)
        await self.repo.activate(self.order, now=self.now, completed_at=completed_at, **payment)
        self.order = dataclasses.replace(
            self.order,
            ticket_status=TicketStatus.ACTIVE,
            transaction_status=TransactionStatus.COMPLETED,
        )
        await self.repo.announce_activated(self.order, at=self.now)
        if self.books is not None:
            # Once per order (the first ticket issues it; the others find it issued).
            await self.books.order_paid(self.order.purchase_order_id, now=self.now)

    async def request_refund(self, amount: int, payment: dict[str, Any]) -> None:
        await self.transaction(TransactionStatus.CANCELLED, refund_requested=True, **payment)
        reason = self.order.cancel_reason or "ticket_cancelled_before_payment"
        await self.repo.announce_refund_requested(self.order, amount=amount, reason=reason)

    async def not_paid(self, reason: str, report: dict[str, Any], *, reversal: bool) -> None:
        """Never paid, or paid and reversed: the ticket is cancelled and its seat freed."""
        status = self.order.ticket_status
        if status is TicketStatus.PENDING:
            await self.repo.move_seats(self.order.event_id, held=-1)
        elif status is TicketStatus.ACTIVE and reversal:
            # A reversal after payment (settlement -> deny, capture -> cancel): the money is not
            # ours, the seat goes back on sale. An `expire` can never follow a payment.
            await self.repo.move_seats(self.order.event_id, sold=-1)
        else:
            if self.order.transaction_status is TransactionStatus.PENDING:
                await self.transaction(TransactionStatus.FAILED, gateway_report=report)
            logger.info("a failure changes nothing for a %s ticket", status, extra=self.fields)
            return
        await self.move(TicketStatus.CANCELLED, cancelled_by="system", reason=reason)
        await self.transaction(TransactionStatus.FAILED, gateway_report=report)
        await self.repo.announce_cancelled(self.order, at=self.now, by="system", reason=reason)

    async def returned(self, report: dict[str, Any]) -> None:
        """The money went back: the ticket ends refunded, never active."""
        status = self.order.ticket_status
        if status is TicketStatus.EXPIRED:
            # The hold ended and the seat is gone already; only the order records the refund.
            await self.transaction(TransactionStatus.REFUNDED, gateway_report=report)
            return
        if status not in (TicketStatus.ACTIVE, TicketStatus.CANCELLED, TicketStatus.PENDING):
            logger.info("a refund changes nothing for a %s ticket", status, extra=self.fields)
            return
        if status is TicketStatus.ACTIVE:
            await self.repo.move_seats(self.order.event_id, sold=-1)
        elif status is TicketStatus.PENDING:
            # Refunded before its settlement reached us (out-of-order delivery): release the
            # hold; the late settlement will be stale.
            await self.repo.move_seats(self.order.event_id, held=-1)
            await self.move(TicketStatus.CANCELLED, cancelled_by="system", reason=REFUNDED)
        await self.move(TicketStatus.REFUNDED)
        await self.transaction(TransactionStatus.REFUNDED, gateway_report=report)
        if status is not TicketStatus.CANCELLED:
            # There is no ticket.refunded contract: a ticket that stops being valid is reported
            # as cancelled, with the reason. (A cancelled one was announced when cancelled.)
            await self.repo.announce_cancelled(
                self.order, at=self.now, by="system", reason=REFUNDED
            )

    async def returning(self, report: dict[str, Any]) -> None:
        """A full refund is under way: the ticket stops being valid now, and ends refunded."""
        status = self.order.ticket_status
        if status is TicketStatus.PENDING:
            await self.repo.move_seats(self.order.event_id, held=-1)
        elif status is TicketStatus.ACTIVE:
            await self.repo.move_seats(self.order.event_id, sold=-1)
        else:
            logger.info(
                "a refund under way changes nothing for a %s ticket", status, extra=self.fields
            )
            return
        await self.move(TicketStatus.CANCELLED, cancelled_by="system", reason=REFUNDED)
        await self.transaction(TransactionStatus.CANCELLED, gateway_report=report)
        await self.repo.announce_cancelled(self.order, at=self.now, by="system", reason=REFUNDED)

    # --- events --------------------------------------------------------------------------------

    async def failed(self, failed: PaymentFailed) -> None:
        report = {
            "failed": {"transaction_status": failed.transaction_status, "reason": failed.reason}
        }
        reversal = failed.transaction_status in REVERSALS or (
            isinstance(failed, PaymentFailedV2) and failed.payment_status == "reversed"
        )
        await self.not_paid(f"payment_{failed.transaction_status}", report, reversal=reversal)

    async def refunded(self, refund: PaymentRefunded) -> None:
        report = {
            "refunded": {
                "refund_amount": refund.refund_amount,
                "refunded_total": refund.refunded_total,
                "fully_refunded": refund.fully_refunded,
                "transaction_status": refund.transaction_status,
                "reason": refund.reason,
            }
        }
        if refund.fully_refunded:
            await self.returned(report)
        elif isinstance(refund, PaymentRefundedV2) and refund.payment_status in PAID_STATUSES:
            # A partial refund is a goodwill gesture: the ticket stays valid. It also says the
            # payment settled, which matters when it overtook the settlement.
            await self.paid(refund, self.occurred_at, report)
            await self.keep_report(report)
        else:
            await self.keep_report(report)
            logger.info("partial refund recorded", extra=self.fields)

    async def keep_report(self, report: dict[str, Any]) -> None:
        await self.transaction(self.order.transaction_status, gateway_report=report)

    async def declined(self, declined: PaymentDeclined) -> None:
        """A card attempt was declined; in Snap the buyer may retry, so the hold stands."""
        await self.repo.record_attempt(
            self.order, PaymentAttempt("declined", declined.reason, self.occurred_at)
        )
        logger.info("declined payment attempt recorded; the hold stands", extra=self.fields)

    async def refund_updated(self, update: PaymentRefundUpdated) -> None:
        report = {
            "refund": {
                "refund_id": update.refund_id,
                "refund_amount": update.refund_amount,
                "method": update.method,
                "refund_status": update.refund_status,
            }
        }
        standing = refund_standing(
            payment_status=update.payment_status,
            refund_status=update.refund_status,
            refund_amount=update.refund_amount,
            order_amount=self.order.amount,
        )
        if standing is Standing.RETURNED:
            await self.returned(report)
        elif standing is Standing.RETURNING:
            await self.returning(report)
        elif standing is Standing.PAID and self.order.ticket_status in (
            TicketStatus.PENDING,
            TicketStatus.EXPIRED,
        ):
            # The payment settled and this update overtook the settlement.
            await self.paid(update, self.occurred_at, report)
        elif standing is Standing.PAID and self._share_back(update):
            # This cancelled ticket's share of its order is back with the buyer (a partial
            # refund): the ticket ends refunded; the order's other tickets stay as they are.
            await self.move(TicketStatus.REFUNDED)

    def _share_back(self, update: PaymentRefundUpdated) -> bool:
        return (
            isinstance(update, PaymentRefundUpdatedV2)
            and update.refund_status in REFUND_DONE
            and self.order.ticket_id in update.refunded_ticket_ids
            and self.order.ticket_status is TicketStatus.CANCELLED
        )


def _settled_report(paid: PaymentSettled) -> dict[str, Any]:
    return {
        "payment_type": paid.payment_type,
        "transaction_id": paid.transaction_id,
        "amount": paid.amount,
        "settled_at": paid.settled_at.isoformat(),
    }
