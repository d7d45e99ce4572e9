"""SQL for notifications, the delivery log, device tokens and language preferences.

Rows become domain entities here, once; nothing past these classes sees a record.
"""

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import asyncpg

from notification_gateway.domain.model import Audience, Channel, Language
from notification_gateway.domain.notifications import (
    Delivery,
    DeliveryTarget,
    Device,
    NewNotification,
    Notification,
    Platform,
)
from notification_gateway.service_layer.ports import DeliveryLog, DeliveryLogs

WAKE_CHANNEL = "notification_gateway_deliveries"
"""PostgreSQL NOTIFY channel: a commit that created deliveries wakes the senders at once."""


def _notification(row: Mapping[str, Any]) -> Notification:
    return Notification(
        id=row["id"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        event_version=row["event_version"],
        user_id=row["user_id"],
        audience=Audience(row["audience"]),
        language=row["language"],
        title=row["title"],
        body=row["body"],
        data=row["data"],
        occurred_at=row["occurred_at"],
        created_at=row["created_at"],
    )


def _device(row: Mapping[str, Any]) -> Device:
    return Device(
        token=row["token"],
        platform=Platform(row["platform"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class SqlAccounts:
    """A person's notifications, devices and language, on one request's connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def recent_notifications(
        self, *, user_id: str, limit: int, before_id: int | None
    ) -> list[Notification]:
        rows = await self.conn.fetch(
            """SELECT n.id, n.event_id, n.event_type, n.event_version, n.user_id, n.audience,
                    n.language, n.title, n.body, n.data, n.occurred_at, n.created_at
                FROM notifications n
                WHERE n.user_id = $1 AND ($2::bigint IS NULL OR n.id < $2)
                ORDER BY n.id DESC LIMIT $3""",
            user_id,
            before_id,
            limit,
        )
        return [_notification(row) for row in rows]

    async def register_device(
        self, *, user_id: str, token: str, platform: Platform
    ) -> Device | None:
        """The caller's device, new or refreshed; None when the token is another user's.

        One statement, so two users racing for one token cannot both win: the loser's conflict
        finds a row whose owner is not it and updates nothing.
        """
        row = await self.conn.fetchrow(
            """INSERT INTO devices (token, user_id, platform) VALUES ($1, $2, $3)
               ON CONFLICT (token) DO UPDATE
                   SET platform = EXCLUDED.platform, updated_at = now()
                   WHERE devices.user_id = EXCLUDED.user_id
               RETURNING token, platform, created_at, updated_at""",
            token,
            user_id,
            platform.value,
        )
        return _device(row) if row is not None else None

    async def remove_device(self, *, user_id: str, token: str) -> bool:
        status: str = await self.conn.execute(
            "DELETE FROM devices WHERE token = $1 AND user_id = $2", token, user_id
        )
        return status.endswith(" 1")

    async def devices_of(self, user_id: str) -> list[Device]:
        rows = await self.conn.fetch(
            """SELECT token, platform, created_at, updated_at FROM devices
               WHERE user_id = $1 ORDER BY created_at""",
            user_id,
        )
        return [_device(row) for row in rows]

    async def language_of(self, user_id: str) -> Language | None:
        value: Language | None = await self.conn.fetchval(
            "SELECT language FROM preferences WHERE user_id = $1", user_id
        )
        return value

    async def set_language(self, *, user_id: str, language: Language) -> None:
        await self.conn.execute(
            """INSERT INTO preferences (user_id, language) VALUES ($1, $2)
               ON CONFLICT (user_id) DO UPDATE
                   SET language = EXCLUDED.language, updated_at = now()""",
            user_id,
            language,
        )


class SqlNotificationLog(SqlAccounts):
    """The consumer's writes, on the inbox transaction's connection."""

    async def add_notification(self, notification: NewNotification) -> int | None:
        value: int | None = await self.conn.fetchval(
            """INSERT INTO notifications (event_id, event_type, user_id, audience, language,
                   title, body, data, payload, occurred_at, event_version)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
               ON CONFLICT (event_id, user_id) DO NOTHING RETURNING id""",
            notification.event_id,
            notification.event_type,
            notification.user_id,
            notification.audience.value,
            notification.language,
            notification.title,
            notification.body,
            notification.data,
            notification.payload,
            notification.occurred_at,
            notification.event_version,
        )
        return value

    async def add_delivery(
        self, *, notification_id: int, event_id: UUID, target: DeliveryTarget
    ) -> bool:
        created = await self.conn.fetchval(
            """INSERT INTO deliveries (notification_id, event_id, channel, target, collapse_key)
               VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true""",
            notification_id,
            event_id,
            target.channel.value,
            target.target,
            target.collapse_key,
        )
        return bool(created)

    async def wake_senders(self) -> None:
        """Delivered by PostgreSQL at commit, never before: senders find the rows committed."""
        await self.conn.execute("SELECT pg_notify($1, '')", WAKE_CHANNEL)


class SqlDeliveryLog:
    """The delivery job's claims and outcomes."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def claim_due_deliveries(self, *, limit: int, lease_seconds: float) -> list[Delivery]:
        """Take up to `limit` due deliveries for this sender.

        The claim moves `next_attempt_at` a lease ahead and counts the attempt, so other
        replicas skip these rows without a transaction held open across the send; a sender
        that dies mid-send leaves the row to be retried when the lease runs out.
        """
        rows = await self.conn.fetch(
            """WITH due AS (
                    SELECT id FROM deliveries
                    WHERE status = 'pending' AND next_attempt_at <= now()
                    ORDER BY next_attempt_at
                    LIMIT $1
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE deliveries d
                SET attempts = d.attempts + 1,
                    next_attempt_at = now() + make_interval(secs => $2)
                FROM due, notifications n
                WHERE d.id = due.id AND n.id = d.notification_id
                RETURNING d.id AS delivery_id, d.channel, d.target, d.attempts, n.payload,
                    n.id, n.event_id, n.event_type, n.event_version, n.user_id, n.audience,
                    n.language, n.title, n.body, n.data, n.occurred_at, n.created_at""",
            limit,
            lease_seconds,
        )
        return [
            Delivery(
                id=row["delivery_id"],
                channel=Channel(row["channel"]),
                target=row["target"],
                attempts=row["attempts"],
                notification=_notification(row),
                payload=row["payload"],
            )
            for row in rows
        ]

    async def mark_sent(self, delivery_id: int) -> None:
        await self.conn.execute(
            """UPDATE deliveries SET status = 'sent', finished_at = now(), last_error = NULL
               WHERE id = $1""",
            delivery_id,
        )

    async def mark_failed(self, delivery_id: int, *, error: str) -> None:
        await self.conn.execute(
            """UPDATE deliveries SET status = 'failed', finished_at = now(), last_error = $2
               WHERE id = $1""",
            delivery_id,
            error[:2000],
        )

    async def schedule_retry(self, delivery_id: int, *, error: str, delay_seconds: float) -> None:
        await self.conn.execute(
            """UPDATE deliveries SET last_error = $2,
                   next_attempt_at = now() + make_interval(secs => $3)
               WHERE id = $1""",
            delivery_id,
            error[:2000],
            delay_seconds,
        )

    async def drop_device(self, token: str) -> None:
        await self.conn.execute("DELETE FROM devices WHERE token = $1", token)


def pooled_delivery_logs(pool: asyncpg.Pool) -> DeliveryLogs:
    """Each use a pooled connection of its own, given back when the block ends."""

    @asynccontextmanager
    async def delivery_log() -> AsyncIterator[DeliveryLog]:
        async with pool.acquire() as conn:
            yield SqlDeliveryLog(conn)

    return delivery_log
