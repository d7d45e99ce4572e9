"""Where events travel: the exchange, the routing keys and which consumer queue hears what.

Every service declares the whole topology at start-up, so a publish is routable even when the
consuming service has not started yet; an unroutable publish is then a real error.
"""

from dataclasses import dataclass
from enum import StrEnum

EXCHANGE = "ticketing.events"
DEAD_LETTER_EXCHANGE = "ticketing.dead-letter"


class EventType(StrEnum):
    """Routing key of each event; also the envelope's `event_type`."""

    PAYMENT_PENDING = "payment.pending"
    PAYMENT_SETTLED = "payment.settled"
    PAYMENT_FAILED = "payment.failed"
    PAYMENT_REFUNDED = "payment.refunded"
    PAYMENT_DECLINED = "payment.declined"
    PAYMENT_REFUND_UPDATED = "payment.refund_updated"
    TICKET_ACTIVATED = "ticket.activated"
    TICKET_CANCELLED = "ticket.cancelled"
    TICKET_EXPIRED = "ticket.expired"
    TICKET_CHECKED_IN = "ticket.checked_in"
    TICKET_REFUND_REQUESTED = "ticket.refund_requested"
    ORDER_ACTIVATED = "order.activated"
    WAITLIST_OFFERED = "waitlist.offered"


@dataclass(frozen=True)
class QueueBinding:
    """A consumer's durable queue and the routing keys bound to it."""

    queue: str
    routing_keys: tuple[str, ...]
    retired_keys: tuple[str, ...] = ()
    """Keys this queue was bound with before: the topology unbinds them from a broker that has
    them, so an upgraded deployment hears exactly `routing_keys`."""

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.queue}.dlq"


TICKET_SERVICE_PAYMENTS = QueueBinding(
    queue="ticket-service.payment-events",
    routing_keys=(
        EventType.PAYMENT_SETTLED,
        EventType.PAYMENT_FAILED,
        EventType.PAYMENT_REFUNDED,
        EventType.PAYMENT_DECLINED,
        EventType.PAYMENT_REFUND_UPDATED,
    ),
)
PAYMENT_SERVICE_TICKETS = QueueBinding(
    queue="payment-service.ticket-events",
    routing_keys=(
        EventType.TICKET_EXPIRED,
        EventType.TICKET_CANCELLED,
        EventType.TICKET_REFUND_REQUESTED,
    ),
)
NOTIFICATION_GATEWAY_ALL = QueueBinding(
    queue="notification-gateway.events",
    # The events someone is told of (notification-gateway's NOTIFIED_EVENTS, which a test keeps
    # equal): a payment.settled, say, only ever travelled here to be dropped.
    routing_keys=(
        EventType.TICKET_ACTIVATED,
        EventType.TICKET_EXPIRED,
        EventType.TICKET_CANCELLED,
        EventType.TICKET_CHECKED_IN,
        EventType.PAYMENT_PENDING,
        EventType.PAYMENT_FAILED,
        EventType.PAYMENT_REFUNDED,
        EventType.PAYMENT_DECLINED,
        EventType.PAYMENT_REFUND_UPDATED,
        EventType.ORDER_ACTIVATED,
        EventType.WAITLIST_OFFERED,
    ),
    retired_keys=("ticket.*", "payment.*", "order.*", "waitlist.*"),
)

CONSUMER_QUEUES: tuple[QueueBinding, ...] = (
    TICKET_SERVICE_PAYMENTS,
    PAYMENT_SERVICE_TICKETS,
    NOTIFICATION_GATEWAY_ALL,
)
