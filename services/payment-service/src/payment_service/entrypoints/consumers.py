"""The ticket events consumer: each event parsed, then its use case (`service_layer.ticket_events`)
on the inbox transaction's connection."""

import asyncpg
from servicekit.messaging import Consumer, EventHandler, Outbox
from ticketing_contracts import (
    EventEnvelope,
    TicketCancelled,
    TicketExpired,
    TicketRefundRequested,
)
from ticketing_contracts.routing import PAYMENT_SERVICE_TICKETS, EventType

from payment_service.adapters.unit_of_work import PgPaymentWork
from payment_service.service_layer import ticket_events


def ticket_events_consumer(outbox: Outbox) -> Consumer:
    async def on_refund_requested(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        event = TicketRefundRequested.model_validate(envelope.payload)
        await ticket_events.refund_requested(PgPaymentWork(conn, outbox), event)

    async def on_ticket_expired(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        event = TicketExpired.model_validate(envelope.payload)
        await ticket_events.ticket_expired(PgPaymentWork(conn, outbox), event)

    async def on_ticket_cancelled(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        event = TicketCancelled.model_validate(envelope.payload)
        await ticket_events.ticket_cancelled(PgPaymentWork(conn, outbox), event)

    handlers: dict[str, EventHandler] = {
        EventType.TICKET_REFUND_REQUESTED: on_refund_requested,
        EventType.TICKET_EXPIRED: on_ticket_expired,
        EventType.TICKET_CANCELLED: on_ticket_cancelled,
    }
    return Consumer(name="payment-service", binding=PAYMENT_SERVICE_TICKETS, handlers=handlers)
