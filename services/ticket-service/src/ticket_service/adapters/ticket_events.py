"""The ticket.* integration events, built from a ticket's view row and written to the outbox."""

from datetime import datetime
from typing import Any

import asyncpg
from servicekit.messaging import Outbox
from ticketing_contracts import (
    TicketActivated,
    TicketCancelled,
    TicketCheckedIn,
    TicketExpired,
    TicketRefundRequested,
)

from ticket_service.adapters.repository import Row
from ticket_service.domain.qr_codes import SigningKeys, sign_qr_payload


def _facts(row: Row) -> dict[str, Any]:
    return {
        "ticket_id": str(row["id"]),
        "event_id": row["event_id"],
        "user_id": row["user_id"],
        "order_id": row["order_id"],
        "attendance_code": row["attendance_code"],
        "holder_name": row["holder_name"],
        "holder_email": row["holder_email"],
        "event_title": row["event_title"],
        "event_starts_at": row["event_starts_at"],
        "event_venue": row["event_venue"],
        "host_id": row["event_host_id"],
    }


async def ticket_activated(
    conn: asyncpg.Connection, outbox: Outbox, row: Row, keys: SigningKeys, at: datetime
) -> None:
    qr = sign_qr_payload(str(row["id"]), row["attendance_code"], keys)
    payload = TicketActivated(
        **_facts(row),
        price_paid=row["price_paid"],
        currency=row["currency"],
        activated_at=at,
        qr_payload=qr,
    )
    await outbox.add(conn, payload)


async def ticket_cancelled(
    conn: asyncpg.Connection, outbox: Outbox, row: Row, *, at: datetime, by: str, reason: str
) -> None:
    payload = TicketCancelled(**_facts(row), cancelled_at=at, cancelled_by=by, reason=reason)
    await outbox.add(conn, payload)


async def ticket_expired(conn: asyncpg.Connection, outbox: Outbox, row: Row, at: datetime) -> None:
    await outbox.add(conn, TicketExpired(**_facts(row), expired_at=at))


async def ticket_refund_requested(
    conn: asyncpg.Connection, outbox: Outbox, row: Row, *, amount: int, reason: str
) -> None:
    payload = TicketRefundRequested(
        **_facts(row), amount=amount, currency=row["currency"], reason=reason
    )
    await outbox.add(conn, payload)


async def ticket_checked_in(conn: asyncpg.Connection, outbox: Outbox, row: Row) -> None:
    """Written by the door (issue 6) in the check-in's own transaction."""
    payload = TicketCheckedIn(
        **_facts(row), checked_in_at=row["checked_in_at"], checked_in_by=row["checked_in_by"]
    )
    await outbox.add(conn, payload)
