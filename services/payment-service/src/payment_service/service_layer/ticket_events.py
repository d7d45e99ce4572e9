"""The ticket events payment-service acts on: a refund request, and a released seat.

Handlers run inside the inbox transaction (the unit of work is on its connection) and only
record intent there (a refund row, a close request); the jobs call Midtrans afterwards. So a
redelivered event has no second effect, and a Midtrans outage never holds the queue.
"""

import logging

from servicekit.logs import log_fields
from ticketing_contracts import TicketCancelled, TicketExpired, TicketRefundRequested
from ticketing_contracts.routing import EventType

from payment_service.domain.errors import NotRefundable
from payment_service.domain.payment import Payment
from payment_service.service_layer.ports import PaymentWork
from payment_service.service_layer.reconciliation import request_close
from payment_service.service_layer.refunds import request_refund

logger = logging.getLogger(__name__)

TICKET_REFUND_PURPOSE = "ticket-refund"


async def refund_requested(work: PaymentWork, event: TicketRefundRequested) -> None:
    """Record the refund (per method: API, cancel or payout); the refund job carries it out.

    `amount` is what goes back: the whole payment, or one ticket's share of an order (v2). Each
    ticket of an order is its own refund (its own key), and all of them together never exceed
    what was paid: they are decided one at a time under the payment's row lock.
    """
    fields = log_fields(order_id=event.order_id, ticket_id=event.ticket_id)
    if not event.order_id:
        logger.info("refund requested for a ticket without a payment; nothing to do", extra=fields)
        return
    payment = await work.payment(event.order_id, lock=True)
    if payment is None:
        logger.warning("refund requested for an unknown order", extra=fields)
        return
    if event.ticket_id not in payment.tickets:
        await work.flag(payment.order_id, f"refund requested for another ticket: {event.ticket_id}")
        logger.error("refund requested for a ticket the payment is not for; flagged", extra=fields)
        return
    store = work.refunds()
    committed = await store.committed_amount(payment.order_id)
    remaining = payment.amount - payment.refunded_amount - committed
    amount = min(event.amount, remaining) if event.amount > 0 else remaining
    try:
        refund, new = await request_refund(
            store,
            payment,
            amount=amount,
            reason=event.reason,
            source=EventType.TICKET_REFUND_REQUESTED,
            purpose=ticket_refund_purpose(payment, event.ticket_id),
            requested_by="ticket-service",
            partial_by_payout=True,
            ticket_ids=(event.ticket_id,),
        )
    except NotRefundable as exc:
        await work.flag(payment.order_id, f"refund requested but not possible: {exc}")
        logger.error("refund requested but not possible; flagged", extra=fields)
        return
    logger.info(
        "refund recorded" if new else "refund already recorded",
        extra=log_fields(order_id=event.order_id, refund_key=refund.refund_key),
    )


def ticket_refund_purpose(payment: Payment, ticket_id: str) -> str:
    """One refund per ticket: the same ticket asked twice is the same refund.

    A payment for one ticket keeps the key it always had, so a refund recorded before orders
    existed is still found.
    """
    if len(payment.tickets) == 1:
        return TICKET_REFUND_PURPOSE
    return f"{TICKET_REFUND_PURPOSE}:{ticket_id}"


async def ticket_expired(work: PaymentWork, event: TicketExpired) -> bool:
    """The hold ended: close its Midtrans transaction; True if a close was requested."""
    if not event.order_id:
        return False
    why = f"ticket {event.ticket_id} expired at {event.expired_at}"
    return await _close(work, event.order_id, why=why)


async def ticket_cancelled(work: PaymentWork, event: TicketCancelled) -> bool:
    """A hold cancelled before payment: close its Midtrans transaction so it cannot be paid.

    A ticket cancelled after payment has a settled payment (not open), so nothing happens here;
    its refund arrives as ticket.refund_requested.
    """
    if not event.order_id:
        return False
    why = f"ticket {event.ticket_id} cancelled by {event.cancelled_by}: {event.reason}"
    return await _close(work, event.order_id, why=why)


async def _close(work: PaymentWork, order_id: str, *, why: str) -> bool:
    closing = await request_close(work, order_id, why=why)
    if closing:
        logger.info("payment to be closed at Midtrans", extra=log_fields(order_id=order_id))
    return closing
