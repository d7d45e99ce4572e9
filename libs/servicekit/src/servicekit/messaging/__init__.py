"""RabbitMQ plumbing written once: topology, transactional outbox, relay, inbox consumer."""

from servicekit.messaging.consumer import Consumer, EventHandler, InboxConsumer
from servicekit.messaging.outbox import Outbox
from servicekit.messaging.relay import OutboxRelay
from servicekit.messaging.topology import DELIVERY_LIMIT, declare_topology

__all__ = [
    "DELIVERY_LIMIT",
    "Consumer",
    "EventHandler",
    "InboxConsumer",
    "Outbox",
    "OutboxRelay",
    "declare_topology",
]
