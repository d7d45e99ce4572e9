"""Message contracts between the ticketing services: the envelope, the payloads and the routing."""

from ticketing_contracts.envelope import EventEnvelope, new_event, parse_payload
from ticketing_contracts.events import (
    PAYLOAD_MODELS,
    EventPayload,
    PaymentFailed,
    PaymentInstructions,
    PaymentPending,
    PaymentRefunded,
    PaymentSettled,
    TicketActivated,
    TicketCancelled,
    TicketCheckedIn,
    TicketExpired,
    TicketRefundRequested,
    VirtualAccount,
)
from ticketing_contracts.routing import (
    CONSUMER_QUEUES,
    DEAD_LETTER_EXCHANGE,
    EXCHANGE,
    EventType,
    QueueBinding,
)

__all__ = [
    "CONSUMER_QUEUES",
    "DEAD_LETTER_EXCHANGE",
    "EXCHANGE",
    "PAYLOAD_MODELS",
    "EventEnvelope",
    "EventPayload",
    "EventType",
    "PaymentFailed",
    "PaymentInstructions",
    "PaymentPending",
    "PaymentRefunded",
    "PaymentSettled",
    "QueueBinding",
    "TicketActivated",
    "TicketCancelled",
    "TicketCheckedIn",
    "TicketExpired",
    "TicketRefundRequested",
    "VirtualAccount",
    "new_event",
    "parse_payload",
]
