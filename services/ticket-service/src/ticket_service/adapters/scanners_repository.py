"""SQL for scanners (devices a host registers, lists and revokes) and the list feed they sync."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from ticket_service.adapters import check_in_keys, repository
from ticket_service.domain.door import Actor
from ticket_service.domain.scanners import RegisteredScanner, Scanner

TOKEN_PREFIX = "scn_"  # noqa: S105 - the marker of a scanner token, not a secret
SCANNER_COLUMNS = """id, event_id, name, list_ids, created_at, created_by, last_seen_at,
    last_synced_at, revoked_at, revoked_by"""

# A scanner's calls note the time once a minute at most, and never wait for its row: an upload
# in progress (which notes it too) or a revoke holds it.
_SEEN = """
UPDATE scanners s SET last_seen_at = now()
  FROM (SELECT id FROM scanners WHERE id = $1 FOR NO KEY UPDATE SKIP LOCKED) free
 WHERE s.id = free.id
"""


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


async def scanner_actor(pool: asyncpg.Pool, token: str) -> Actor | None:
    """The scanner a token belongs to, as a door actor; None when unknown or revoked."""
    raw_id, _, secret = token.removeprefix(TOKEN_PREFIX).partition("_")
    try:
        scanner_id = UUID(hex=raw_id)
    except ValueError:
        return None
    row = await pool.fetchrow(
        """SELECT event_id, list_ids, token_hash,
                  last_seen_at IS NULL OR last_seen_at < now() - interval '1 minute' AS stale
             FROM scanners WHERE id = $1 AND revoked_at IS NULL""",
        scanner_id,
    )
    if row is None or not hmac.compare_digest(bytes(row["token_hash"]), _hash(secret)):
        return None
    if row["stale"]:
        await pool.execute(_SEEN, scanner_id)
    lists = frozenset(row["list_ids"]) if row["list_ids"] is not None else None
    return Actor(
        user_id=f"scanner-{scanner_id}",
        scanner_of=row["event_id"],
        list_ids=lists,
        scanner_id=str(scanner_id),
    )


def _scanner(row: Any) -> Scanner:
    return Scanner(
        id=str(row["id"]),
        event_id=row["event_id"],
        name=row["name"],
        list_ids=list(row["list_ids"]) if row["list_ids"] is not None else None,
        created_at=row["created_at"],
        created_by=row["created_by"],
        last_seen_at=row["last_seen_at"],
        last_synced_at=row["last_synced_at"],
        revoked_at=row["revoked_at"],
        revoked_by=row["revoked_by"],
    )


class SqlScanners:
    """An event's scanners for its host (one request's connection)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def event_host(self, event_id: str) -> str | None:
        return await repository.event_host(self.conn, event_id)

    async def register(
        self, event_id: str, *, name: str, list_ids: list[str] | None, by: str
    ) -> RegisteredScanner:
        scanner_id = uuid4()
        secret = secrets.token_urlsafe(32)
        created_at = await self.conn.fetchval(
            """INSERT INTO scanners (id, event_id, name, list_ids, token_hash, created_by)
               VALUES ($1, $2, $3, $4, $5, $6) RETURNING created_at""",
            scanner_id,
            event_id,
            name,
            list_ids,
            _hash(secret),
            by,
        )
        token = f"{TOKEN_PREFIX}{scanner_id.hex}_{secret}"
        return RegisteredScanner(str(scanner_id), event_id, name, list_ids, created_at, token)

    async def rotate_key(self, event_id: str) -> None:
        await check_in_keys.rotate_key(self.conn, event_id)

    async def scanners(self, event_id: str) -> list[Scanner]:
        found = await self.conn.fetch(
            f"""SELECT {SCANNER_COLUMNS} FROM scanners
                 WHERE event_id = $1 ORDER BY created_at, id""",  # noqa: S608 - constant columns
            event_id,
        )
        return [_scanner(r) for r in found]

    async def revoke(self, event_id: str, scanner_id: str, *, by: str) -> Scanner | None:
        """One statement; it waits for an upload of the scanner's that is still applying."""
        try:
            uid = UUID(scanner_id)
        except ValueError:
            return None
        row = await self.conn.fetchrow(
            f"""UPDATE scanners SET revoked_at = coalesce(revoked_at, now()),
                                    revoked_by = CASE WHEN revoked_at IS NULL THEN $3
                                                      ELSE revoked_by END
                 WHERE id = $1 AND event_id = $2
             RETURNING {SCANNER_COLUMNS}""",  # noqa: S608 - constant columns
            uid,
            event_id,
            by,
        )
        return _scanner(row) if row else None


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
