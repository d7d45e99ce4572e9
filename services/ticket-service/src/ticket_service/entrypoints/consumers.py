"""The payment-event consumer: payment.settled / failed / refunded through the inbox."""

from servicekit.app import Runtime
from servicekit.messaging import Consumer
from ticketing_contracts import EventType
from ticketing_contracts.routing import TICKET_SERVICE_PAYMENTS

from ticket_service.service_layer.activation import PaymentOutcomes
from ticket_service.settings import TicketSettings

CONSUMER_NAME = "ticket-service"


def payment_events_consumer(settings: TicketSettings, runtime: Runtime) -> Consumer:
    outcomes = PaymentOutcomes(runtime.outbox, settings.signing_keys)
    return Consumer(
        name=CONSUMER_NAME,
        binding=TICKET_SERVICE_PAYMENTS,
        handlers={
            EventType.PAYMENT_SETTLED: outcomes.on_settled,
            EventType.PAYMENT_FAILED: outcomes.on_failed,
            EventType.PAYMENT_REFUNDED: outcomes.on_refunded,
        },
    )
