"""The event consumer: every notified ticket and payment event goes to `record_notifications`."""

from collections.abc import Callable

import asyncpg
from servicekit.messaging import Consumer, EventHandler
from ticketing_contracts import EventEnvelope
from ticketing_contracts.routing import NOTIFICATION_GATEWAY_ALL

from notification_gateway.service_layer.compose import NOTIFIED_EVENTS
from notification_gateway.service_layer.handlers import RecordingPolicy, record_notifications
from notification_gateway.service_layer.ports import NotificationLog

CONSUMER_NAME = "notification-gateway"
BATCH_SIZE = 16
"""Events recorded in one inbox transaction: the handler only inserts its own rows (it locks
nothing another event's handler needs), so a batch holds no one up."""


def notification_consumer(
    policy: RecordingPolicy, *, notification_log: Callable[[asyncpg.Connection], NotificationLog]
) -> Consumer:
    """`notification_log` puts the port on the inbox transaction's connection."""

    async def on_event(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        await record_notifications(notification_log(conn), envelope, policy=policy)

    handlers: dict[str, EventHandler] = {model.EVENT_TYPE: on_event for model in NOTIFIED_EVENTS}
    return Consumer(
        name=CONSUMER_NAME,
        binding=NOTIFICATION_GATEWAY_ALL,
        handlers=handlers,
        batch_size=BATCH_SIZE,
    )
