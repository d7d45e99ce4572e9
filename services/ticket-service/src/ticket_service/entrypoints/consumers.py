"""The payment-event consumer: every payment.* event ticket-service hears, through the inbox."""

from datetime import UTC, datetime

import asyncpg
from servicekit.app import Runtime
from servicekit.messaging import Consumer, Outbox
from servicekit.messaging.consumer import EventHandler
from ticketing_contracts import EventEnvelope, EventType, parse_payload
from ticketing_contracts.routing import TICKET_SERVICE_PAYMENTS

from ticket_service.adapters.payment_outcomes import SqlPaymentOutcomes
from ticket_service.adapters.receipt_book import SqlReceiptBook
from ticket_service.service_layer.activation import apply_payment_event
from ticket_service.service_layer.receipts import Bookkeeping, PlatformRates
from ticket_service.settings import TicketSettings

CONSUMER_NAME = "ticket-service"
PAYMENT_EVENTS = (
    EventType.PAYMENT_SETTLED,
    EventType.PAYMENT_FAILED,
    EventType.PAYMENT_REFUNDED,
    EventType.PAYMENT_DECLINED,
    EventType.PAYMENT_REFUND_UPDATED,
)


def payment_event_handler(outbox: Outbox, platform: PlatformRates | None = None) -> EventHandler:
    async def handle(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        # v1 and v2 both parse (an unknown version raises, is retried, then dead-lettered).
        payload = parse_payload(envelope)
        repo = SqlPaymentOutcomes(conn, outbox)
        books = Bookkeeping(SqlReceiptBook(conn), platform) if platform else None
        await apply_payment_event(
            repo, payload, occurred_at=envelope.occurred_at, now=datetime.now(UTC), books=books
        )

    return handle


def payment_events_consumer(settings: TicketSettings, runtime: Runtime) -> Consumer:
    platform = PlatformRates(settings.platform_fee_percent, settings.ppn_rate_percent)
    handle = payment_event_handler(runtime.outbox, platform)
    return Consumer(
        name=CONSUMER_NAME,
        binding=TICKET_SERVICE_PAYMENTS,
        handlers=dict.fromkeys(PAYMENT_EVENTS, handle),
    )
