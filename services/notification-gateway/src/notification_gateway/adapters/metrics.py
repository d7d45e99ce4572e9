"""The notification-gateway's own Prometheus figures: deliveries by channel and outcome.

Attempts are counted where they leave: around the mailer and the push sender (the delivery
ports) and the live stream's append, so the delivery code itself stays as it is. The backlog
of deliveries still to send is read from the database at scrape time.
"""

import asyncpg
from prometheus_client import Counter, Gauge
from servicekit.metrics import set_counts

from notification_gateway.adapters.stream import NotificationStream
from notification_gateway.domain.model import (
    Channel,
    Outcome,
    OutgoingEmail,
    PermanentFailure,
    Sent,
)
from notification_gateway.domain.notifications import JsonObject
from notification_gateway.service_layer.ports import Mailer, PushSender

DELIVERY_ATTEMPTS = Counter(
    "notification_delivery_attempts_total",
    "Delivery attempts by channel and outcome: sent, temporary_failure, permanent_failure.",
    ["channel", "outcome"],
)
DELIVERIES_PENDING = Gauge(
    "notification_deliveries_pending",
    "Deliveries waiting to be sent or retried, by channel; read at scrape time.",
    ["channel"],
)


def _count(channel: Channel, outcome: Outcome) -> Outcome:
    match outcome:
        case Sent():
            name = "sent"
        case PermanentFailure():
            name = "permanent_failure"
        case _:
            name = "temporary_failure"
    DELIVERY_ATTEMPTS.labels(channel.value, name).inc()
    return outcome


class CountedMailer:
    def __init__(self, inner: Mailer) -> None:
        self._inner = inner

    async def send(self, email: OutgoingEmail) -> Outcome:
        try:
            outcome = await self._inner.send(email)
        except Exception:
            DELIVERY_ATTEMPTS.labels(Channel.EMAIL.value, "temporary_failure").inc()
            raise
        return _count(Channel.EMAIL, outcome)


class CountedPush:
    def __init__(self, inner: PushSender) -> None:
        self._inner = inner

    async def send(self, *, token: str, title: str, body: str, data: dict[str, str]) -> Outcome:
        try:
            outcome = await self._inner.send(token=token, title=title, body=body, data=data)
        except Exception:
            DELIVERY_ATTEMPTS.labels(Channel.PUSH.value, "temporary_failure").inc()
            raise
        return _count(Channel.PUSH, outcome)


class CountedStream(NotificationStream):
    async def append(
        self, *, user_id: str, delivery_id: int, event: str, notification: JsonObject
    ) -> str | None:
        try:
            entry = await super().append(
                user_id=user_id, delivery_id=delivery_id, event=event, notification=notification
            )
        except Exception:
            DELIVERY_ATTEMPTS.labels(Channel.STREAM.value, "temporary_failure").inc()
            raise
        DELIVERY_ATTEMPTS.labels(Channel.STREAM.value, "sent").inc()
        return entry


async def refresh_delivery_backlog(conn: asyncpg.Connection) -> None:
    rows = await conn.fetch(
        "SELECT channel, count(*) AS count FROM deliveries WHERE status = 'pending' GROUP BY 1"
    )
    set_counts(DELIVERIES_PENDING, rows, ["channel"], known=[(c.value,) for c in Channel])
