"""SQL for notifications, the delivery log, device tokens and language preferences."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from notification_gateway.domain.model import Channel, Language

WAKE_CHANNEL = "notification_gateway_deliveries"
"""PostgreSQL NOTIFY channel: a commit that created deliveries wakes the senders at once."""


@dataclass(frozen=True)
class NotificationRow:
    id: int
    event_id: UUID
    event_type: str
    event_version: int
    user_id: str
    audience: str
    language: Language
    title: str
    body: str
    data: dict[str, str]
    occurred_at: datetime
    created_at: datetime

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "event_id": str(self.event_id),
            "event_type": self.event_type,
            "audience": self.audience,
            "language": self.language,
            "title": self.title,
            "body": self.body,
            "data": self.data,
            "occurred_at": self.occurred_at.isoformat(),
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class DueDelivery:
    id: int
    channel: Channel
    target: str
    attempts: int
    notification: NotificationRow
    audience: str
    payload: dict[str, Any]


def _notification(row: asyncpg.Record) -> NotificationRow:
    return NotificationRow(
        id=row["id"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        event_version=row["event_version"],
        user_id=row["user_id"],
        audience=row["audience"],
        language=row["language"],
        title=row["title"],
        body=row["body"],
        data=row["data"],
        occurred_at=row["occurred_at"],
        created_at=row["created_at"],
    )


async def add_notification(
    conn: asyncpg.Connection,
    *,
    event_id: UUID,
    event_type: str,
    event_version: int,
    user_id: str,
    audience: str,
    language: Language,
    title: str,
    body: str,
    data: dict[str, str],
    payload: dict[str, Any],
    occurred_at: datetime,
) -> int | None:
    """The new notification's id, or None when this event already told this person."""
    value: int | None = await conn.fetchval(
        """INSERT INTO notifications (event_id, event_type, user_id, audience, language, title,
               body, data, payload, occurred_at, event_version)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           ON CONFLICT (event_id, user_id) DO NOTHING RETURNING id""",
        event_id,
        event_type,
        user_id,
        audience,
        language,
        title,
        body,
        data,
        payload,
        occurred_at,
        event_version,
    )
    return value


async def add_delivery(
    conn: asyncpg.Connection,
    *,
    notification_id: int,
    event_id: UUID,
    channel: Channel,
    target: str,
    collapse_key: str | None,
) -> bool:
    """Log a pending delivery; False when one exists (same event, or same collapse key)."""
    created = await conn.fetchval(
        """INSERT INTO deliveries (notification_id, event_id, channel, target, collapse_key)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true""",
        notification_id,
        event_id,
        channel.value,
        target,
        collapse_key,
    )
    return bool(created)


async def wake_senders(conn: asyncpg.Connection) -> None:
    """Delivered by PostgreSQL at commit, never before: senders find the rows committed."""
    await conn.execute("SELECT pg_notify($1, '')", WAKE_CHANNEL)


async def claim_due_deliveries(
    conn: asyncpg.Connection, *, limit: int, lease_seconds: float
) -> list[DueDelivery]:
    """Take up to `limit` due deliveries for this sender.

    The claim moves `next_attempt_at` a lease ahead and counts the attempt, so other replicas
    skip these rows without a transaction held open across the send; a sender that dies
    mid-send leaves the row to be retried when the lease runs out.
    """
    rows = await conn.fetch(
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
                n.id, n.event_id, n.event_type, n.event_version, n.user_id, n.audience, n.language,
                n.title, n.body, n.data, n.occurred_at, n.created_at""",
        limit,
        lease_seconds,
    )
    return [
        DueDelivery(
            id=row["delivery_id"],
            channel=Channel(row["channel"]),
            target=row["target"],
            attempts=row["attempts"],
            notification=_notification(row),
            audience=row["audience"],
            payload=row["payload"],
        )
        for row in rows
    ]


async def mark_sent(conn: asyncpg.Connection, delivery_id: int) -> None:
    await conn.execute(
        """UPDATE deliveries SET status = 'sent', finished_at = now(), last_error = NULL
           WHERE id = $1""",
        delivery_id,
    )


async def mark_failed(conn: asyncpg.Connection, delivery_id: int, error: str) -> None:
    await conn.execute(
        """UPDATE deliveries SET status = 'failed', finished_at = now(), last_error = $2
           WHERE id = $1""",
        delivery_id,
        error[:2000],
    )


async def schedule_retry(
    conn: asyncpg.Connection, delivery_id: int, error: str, delay_seconds: float
) -> None:
    await conn.execute(
        """UPDATE deliveries SET last_error = $2,
               next_attempt_at = now() + make_interval(secs => $3)
           WHERE id = $1""",
        delivery_id,
        error[:2000],
        delay_seconds,
    )


async def deliveries_of_event(conn: asyncpg.Connection, event_id: UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT channel, target, status, attempts, last_error, finished_at
           FROM deliveries WHERE event_id = $1 ORDER BY id""",
        event_id,
    )
    return [dict(row) for row in rows]


async def recent_notifications(
    conn: asyncpg.Connection, *, user_id: str, limit: int, before_id: int | None
) -> list[NotificationRow]:
    rows = await conn.fetch(
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


# --- devices and preferences -----------------------------------------------------------------


async def register_device(
    conn: asyncpg.Connection, *, user_id: str, token: str, platform: str
) -> dict[str, Any] | None:
    """The caller's device, new or refreshed; None when the token is another user's.

    One statement, so two users racing for one token cannot both win: the loser's conflict
    finds a row whose owner is not it and updates nothing.
    """
    row = await conn.fetchrow(
        """INSERT INTO devices (token, user_id, platform) VALUES ($1, $2, $3)
           ON CONFLICT (token) DO UPDATE
               SET platform = EXCLUDED.platform, updated_at = now()
               WHERE devices.user_id = EXCLUDED.user_id
           RETURNING token, platform, created_at, updated_at""",
        token,
        user_id,
        platform,
    )
    return dict(row) if row is not None else None


async def remove_device(conn: asyncpg.Connection, *, user_id: str, token: str) -> bool:
    status: str = await conn.execute(
        "DELETE FROM devices WHERE token = $1 AND user_id = $2", token, user_id
    )
    return status.endswith(" 1")


async def drop_device(conn: asyncpg.Connection, token: str) -> None:
    await conn.execute("DELETE FROM devices WHERE token = $1", token)


async def devices_of(conn: asyncpg.Connection, user_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT token, platform, created_at, updated_at FROM devices
           WHERE user_id = $1 ORDER BY created_at""",
        user_id,
    )
    return [dict(row) for row in rows]


async def language_of(conn: asyncpg.Connection, user_id: str) -> Language | None:
    value: Language | None = await conn.fetchval(
        "SELECT language FROM preferences WHERE user_id = $1", user_id
    )
    return value


async def set_language(conn: asyncpg.Connection, *, user_id: str, language: Language) -> None:
    await conn.execute(
        """INSERT INTO preferences (user_id, language) VALUES ($1, $2)
           ON CONFLICT (user_id) DO UPDATE SET language = EXCLUDED.language, updated_at = now()""",
        user_id,
        language,
    )
