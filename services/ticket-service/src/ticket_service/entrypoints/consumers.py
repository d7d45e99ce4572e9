"""The payment-event consumer: payment.settled / failed / refunded through the inbox."""

from servicekit.app import Runtime
from servicekit.messaging import Consumer
from ticketing_contracts.routing import TICKET_SERVICE_PAYMENTS

from ticket_service.settings import TicketSettings


def payment_events_consumer(settings: TicketSettings, runtime: Runtime) -> Consumer:
    return Consumer(name="ticket-service", binding=TICKET_SERVICE_PAYMENTS, handlers={})
