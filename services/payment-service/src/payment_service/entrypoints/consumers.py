"""The ticket events payment-service acts on: a refund request, and a released seat.

Handlers run inside the inbox transaction and only record intent there (a refund row, a close
request); the jobs call Midtrans afterwards. So a redelivered event has no second effect, and a
Midtrans outage never holds the queue.
"""

import logging
from functools import partial

import asyncpg
from servicekit.logs import log_fields
from servicekit.messaging import Consumer, Outbox
from ticketing_contracts import (
    EventEnvelope,
    TicketCancelled,
    TicketExpired,
    TicketRefundRequested,
)
from ticketing_contracts.routing import PAYMENT_SERVICE_TICKETS, EventType

from payment_service.adapters import refund_repository as refunds_repo
from payment_service.adapters import repository as repo
from payment_service.adapters.refund_store import PgRefundStore
from payment_service.domain.errors import NotRefundable
from payment_service.service_layer.reconciliation import request_close
from payment_service.service_layer.refunds import request_refund

logger = logging.getLogger(__name__)

TICKET_REFUND_PURPOSE = "ticket-refund"


async def on_refund_requested(
    outbox: Outbox, conn: asyncpg.Connection, envelope: EventEnvelope
) -> None:
    """Record the refund (per method: API, cancel or payout); the refund job carries it out."""
    event = TicketRefundRequested.model_validate(envelope.payload)
    fields = log_fields(order_id=event.order_id, ticket_id=event.ticket_id)
    if not event.order_id:
        logger.info("refund requested for a ticket without a payment; nothing to do", extra=fields)
        return
    payment = await repo.get(conn, event.order_id, lock=True)
    if payment is None:
        logger.warning("refund requested for an unknown order", extra=fields)
        return
    committed = await refunds_repo.committed_amount(conn, payment.order_id)
    remaining = payment.amount - payment.refunded_amount - committed
    amount = min(event.amount, remaining) if event.amount > 0 else remaining
    try:
        refund, new = await request_refund(
            PgRefundStore(conn, outbox),
            payment,
            amount=amount,
            reason=event.reason,
            source=EventType.TICKET_REFUND_REQUESTED,
            purpose=TICKET_REFUND_PURPOSE,
            requested_by="ticket-service",
            partial_by_payout=True,
        )
    except NotRefundable as exc:
        await repo.flag(conn, payment.order_id, f"refund requested but not possible: {exc}")
        logger.error("refund requested but not possible; flagged", extra=fields)
        return
    logger.info(
        "refund recorded" if new else "refund already recorded",
        extra=log_fields(order_id=event.order_id, refund_key=refund.refund_key),
    )


async def on_ticket_expired(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
    event = TicketExpired.model_validate(envelope.payload)
    if not event.order_id:
        return
    closing = await request_close(
        conn, event.order_id, why=f"ticket {event.ticket_id} expired at {event.expired_at}"
    )
    if closing:
        logger.info("payment to be closed at Midtrans", extra=log_fields(order_id=event.order_id))


async def on_ticket_cancelled(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
    """A hold cancelled before payment: close its Midtrans transaction so it cannot be paid.

    A ticket cancelled after payment has a settled payment (not open), so nothing happens here;
    its refund arrives as ticket.refund_requested.
    """
    event = TicketCancelled.model_validate(envelope.payload)
    if not event.order_id:
        return
    why = f"ticket {event.ticket_id} cancelled by {event.cancelled_by}: {event.reason}"
    if await request_close(conn, event.order_id, why=why):
        logger.info("payment to be closed at Midtrans", extra=log_fields(order_id=event.order_id))


def ticket_events_consumer(outbox: Outbox) -> Consumer:
    return Consumer(
        name="payment-service",
        binding=PAYMENT_SERVICE_TICKETS,
        handlers={
            EventType.TICKET_REFUND_REQUESTED: partial(on_refund_requested, outbox),
            EventType.TICKET_EXPIRED: on_ticket_expired,
            EventType.TICKET_CANCELLED: on_ticket_cancelled,
        },
    )
