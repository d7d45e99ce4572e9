"""SQL for scanners (devices a host registers) and the check-in list feed they sync."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from ticket_service.domain.door import Actor

TOKEN_PREFIX = "scn_"  # noqa: S105 - the marker of a scanner token, not a secret


@dataclass(frozen=True)
class RegisteredScanner:
    id: str
    event_id: str
    name: str
    list_ids: list[str] | None
    created_at: datetime
    token: str | None = None  # only in the answer that registered it


@dataclass(frozen=True)
class FeedEntry:
    id: str
    attendance_code: str
    ticket_type_id: str | None
    holder_name: str
    status: str
    is_checked_in: bool
    checked_in_at: datetime | None
    is_inside: bool
    door_xid: int


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


async def register_scanner(
    conn: asyncpg.Connection, *, event_id: str, name: str, list_ids: list[str] | None, by: str
) -> RegisteredScanner:
    scanner_id = uuid4()
    secret = secrets.token_urlsafe(32)
    row = await conn.fetchrow(
        """INSERT INTO scanners (id, event_id, name, list_ids, token_hash, created_by)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING created_at""",
        scanner_id,
        event_id,
        name,
        list_ids,
        _hash(secret),
        by,
    )
    assert row is not None
    token = f"{TOKEN_PREFIX}{scanner_id.hex}_{secret}"
    return RegisteredScanner(str(scanner_id), event_id, name, list_ids, row["created_at"], token)


async def scanner_actor(pool: asyncpg.Pool, token: str) -> Actor | None:
    """The scanner a token belongs to, as a door actor; None when unknown or revoked."""
    raw_id, _, secret = token.removeprefix(TOKEN_PREFIX).partition("_")
    try:
        scanner_id = UUID(hex=raw_id)
    except ValueError:
        return None
    row = await pool.fetchrow(
        "SELECT event_id, list_ids, token_hash FROM scanners WHERE id = $1 AND revoked_at IS NULL",
        scanner_id,
    )
    if row is None or not hmac.compare_digest(bytes(row["token_hash"]), _hash(secret)):
        return None
    lists = frozenset(row["list_ids"]) if row["list_ids"] is not None else None
    return Actor(user_id=f"scanner-{scanner_id}", scanner_of=row["event_id"], list_ids=lists)


async def feed_page(
    conn: asyncpg.Connection,
    *,
    event_id: str,
    type_ids: list[str] | None,
    from_xid: int,
    after: tuple[int, str] | None,
    limit: int,
) -> tuple[list[FeedEntry], int]:
    """Tickets of the list's types written by transactions from `from_xid` on, and the
    snapshot's xmin (every transaction below it has ended: the next walk starts there)."""
    after_xid, after_id = after or (0, "00000000-0000-0000-0000-000000000000")
    found = await conn.fetch(
        """SELECT id, attendance_code, ticket_type_id, holder_name, status, is_checked_in,
                  checked_in_at, is_inside, door_xid::text::bigint AS door_xid,
                  pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin
             FROM tickets
            WHERE event_id = $1 AND status <> 'pending'
              AND ($2::text[] IS NULL OR ticket_type_id = ANY ($2))
              AND door_xid >= $3::text::xid8
              AND (door_xid, id) > ($4::text::xid8, $5::uuid)
            ORDER BY door_xid, id
            LIMIT $6""",
        event_id,
        type_ids,
        str(from_xid),
        str(after_xid),
        UUID(after_id),
        limit,
    )
    xmin = (
        found[0]["xmin"]
        if found
        else await conn.fetchval("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
    )
    return [_entry(r) for r in found], int(xmin)


def _entry(row: Any) -> FeedEntry:
    return FeedEntry(
        id=str(row["id"]),
        attendance_code=row["attendance_code"],
        ticket_type_id=row["ticket_type_id"],
        holder_name=row["holder_name"],
        status=row["status"],
        is_checked_in=row["is_checked_in"],
        checked_in_at=row["checked_in_at"],
        is_inside=row["is_inside"],
        door_xid=row["door_xid"],
    )
