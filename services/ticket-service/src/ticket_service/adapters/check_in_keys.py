"""Each event's Ed25519 QR keys in PostgreSQL; public keys cached per process (they never change).

The newest unretired key signs; rotating adds a key and retires the signing one, which keeps
verifying. The private keys are stored as they are (the database is ticket-service's own).
"""

import secrets
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from ticket_service.domain.offline_qr import new_key_pair

_PUBLIC_KEYS: dict[tuple[str, str], bytes] = {}


@dataclass(frozen=True)
class EventKey:
    key_id: str
    public_key: bytes
    created_at: datetime
    signing: bool


def _key_id() -> str:
    return "k" + secrets.token_hex(4)


async def _insert_key(conn: asyncpg.Connection, event_id: str) -> None:
    pair = new_key_pair()
    await conn.execute(
        """INSERT INTO check_in_keys (event_id, key_id, public_key, private_key)
           VALUES ($1, $2, $3, $4)""",
        event_id,
        _key_id(),
        pair.public_key,
        pair.private_key,
    )


async def _lock_event_keys(conn: asyncpg.Connection, event_id: str) -> None:
    """Key changes of one event queue here (two first uses at once make one key)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('check-in-key:' || $1))", event_id)


async def first_key(conn: asyncpg.Connection, event_id: str) -> None:
    """The key of an event being created (in its transaction): no one else can see it yet."""
    await _insert_key(conn, event_id)


async def rotate_key(conn: asyncpg.Connection, event_id: str) -> None:
    """A new signing key; the one it replaces retires from signing and keeps verifying."""
    async with conn.transaction():
        await _lock_event_keys(conn, event_id)
        await conn.execute(
            """UPDATE check_in_keys SET retired_at = now()
                WHERE event_id = $1 AND retired_at IS NULL""",
            event_id,
        )
        await _insert_key(conn, event_id)


def signing_key_of(event_id: str) -> str:
    """The query of the key signing the QRs of the event `event_id` (an SQL expression) names."""
    return f"""SELECT key_id, private_key FROM check_in_keys
                WHERE event_id = {event_id} AND retired_at IS NULL
                ORDER BY created_at DESC LIMIT 1"""  # noqa: S608 - a column or parameter, never input


async def signing_key(conn: asyncpg.Connection, event_id: str) -> tuple[str, bytes]:
    """(key id, private key) that signs the event's QRs; an event made before keys came with
    its creation gets its first one on first use."""
    query = signing_key_of("$1")
    row = await conn.fetchrow(query, event_id)
    if row is None:
        async with conn.transaction():
            await _lock_event_keys(conn, event_id)
            row = await conn.fetchrow(query, event_id)
            if row is None:
                await _insert_key(conn, event_id)
                row = await conn.fetchrow(query, event_id)
    assert row is not None
    return row["key_id"], bytes(row["private_key"])


async def event_keys(conn: asyncpg.Connection, event_id: str) -> list[EventKey]:
    await signing_key(conn, event_id)
    found = await conn.fetch(
        """SELECT key_id, public_key, created_at, retired_at IS NULL AS signing
             FROM check_in_keys WHERE event_id = $1 ORDER BY created_at DESC""",
        event_id,
    )
    return [
        EventKey(r["key_id"], bytes(r["public_key"]), r["created_at"], r["signing"]) for r in found
    ]


async def public_key(pool: asyncpg.Pool, event_id: str, key_id: str) -> bytes | None:
    cached = _PUBLIC_KEYS.get((event_id, key_id))
    if cached is not None:
        return cached
    found = await pool.fetchval(
        "SELECT public_key FROM check_in_keys WHERE event_id = $1 AND key_id = $2",
        event_id,
        key_id,
    )
    if found is None:
        return None
    _PUBLIC_KEYS[(event_id, key_id)] = bytes(found)
    return bytes(found)
