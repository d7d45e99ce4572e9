"""The door's integration fixtures: ticket-service as a real process on PostgreSQL and RabbitMQ.

Each test makes its own events and tickets with fresh UUIDs, straight in the database (the
shapes the purchase path leaves behind), and drives the door over real HTTP.
"""

import base64
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from servicekit.auth import issue_token
from servicekit.testing import ServiceProcess, create_database, free_port, fresh_vhost
from ticket_service.domain.attendance_codes import ALPHABET
from ticket_service.domain.offline_qr import OfflineQrClaims, verify_offline_qr
from ticket_service.domain.qr_codes import sign_qr_payload
from ticket_service.settings import TicketSettings

DATABASE = "ticket_service_door_test"
VHOST = "ticket_door_test"
REDIS_URL = "redis://127.0.0.1:6379/2"
# The first key signs; the second is the one before a rotation and still verifies.
QR_KEYS = "door2:door-test-current-key,door1:door-test-previous-key"
SETTINGS = TicketSettings(qr_signing_keys=QR_KEYS)  # for tokens and signing in tests


@dataclass
class Door:
    url: str
    pool: asyncpg.Pool
    codes: dict[str, set[str]] = field(default_factory=dict)

    def auth(self, sub: str, *roles: str) -> dict[str, str]:
        token = issue_token(SETTINGS, sub=sub, roles=roles or ("user",))
        return {"Authorization": f"Bearer {token}"}

    def qr(self, ticket: dict[str, Any], *, key: tuple[str, bytes] | None = None) -> str:
        """The ticket's QR payload, signed with the service's current key or `key`."""
        keys = [key] if key else SETTINGS.signing_keys
        return sign_qr_payload(ticket["id"], ticket["code"], keys)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=10)

    async def event(
        self,
        *,
        host_id: str | None = None,
        price: int = 75_000,
        capacity: int = 100,
        starts_in: timedelta = timedelta(days=7),
    ) -> dict[str, Any]:
        event_id = str(uuid.uuid4())
        host_id = host_id or f"host-{uuid.uuid4()}"
        starts_at = datetime.now(UTC) + starts_in
        await self.pool.execute(
            """INSERT INTO ticketed_events (event_id, host_id, title, venue, starts_at, price,
                                            capacity)
               VALUES ($1, $2, 'Jazz di Taman', 'Taman Menteng, Jakarta', $3, $4, $5)""",
            event_id,
            host_id,
            starts_at,
            price,
            capacity,
        )
        return {"event_id": event_id, "host_id": host_id, "price": price, "starts_at": starts_at}

    async def ticket(
        self,
        event: dict[str, Any],
        *,
        status: str = "active",
        user_id: str | None = None,
        code: str | None = None,
        price_paid: int | None = None,
    ) -> dict[str, Any]:
        """A ticket as the purchase path leaves it, with its seat counted and its order."""
        ticket_id = uuid.uuid4()
        user_id = user_id or f"buyer-{uuid.uuid4()}"
        used = self.codes.setdefault(event["event_id"], set())
        while code is None or code in used:  # codes are unique per event
            code = "".join(random.choice(ALPHABET) for _ in range(4))
        used.add(code)
        price_paid = event["price"] if price_paid is None else price_paid
        now = datetime.now(UTC)
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """INSERT INTO tickets (id, user_id, event_id, attendance_code, price_paid,
                       status, holder_name, holder_email, hold_expires_at, activated_at,
                       expired_at, cancelled_at)
                   VALUES ($1, $2, $3, $4, $5, $6, 'Siti Rahma', 'siti@example.id',
                           CASE WHEN $6 = 'pending' THEN $7::timestamptz + interval '15 min' END,
                           CASE WHEN $6 = 'active' THEN $7 END,
                           CASE WHEN $6 = 'expired' THEN $7 END,
                           CASE WHEN $6 = 'cancelled' THEN $7 END)""",
                ticket_id,
                user_id,
                event["event_id"],
                code,
                price_paid,
                status,
                now,
            )
            await conn.execute(
                """UPDATE ticketed_events
                      SET held = held + ($2 = 'pending')::int, sold = sold + ($2 = 'active')::int
                    WHERE event_id = $1""",
                event["event_id"],
                status,
            )
            transaction_status = {"pending": "pending", "active": "completed"}.get(
                status, "cancelled"
            )
            await conn.execute(
                """INSERT INTO ticket_transactions (id, ticket_id, user_id, event_id, order_id,
                       amount, status, payment_method)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, 'bank_transfer')""",
                uuid.uuid4(),
                ticket_id,
                user_id,
                event["event_id"],
                f"TKT-{ticket_id}",
                price_paid,
                transaction_status,
            )
        return {
            "id": str(ticket_id),
            "user_id": user_id,
            "code": code,
            "event_id": event["event_id"],
            "host_id": event["host_id"],
        }

    async def seats(self, event_id: str) -> tuple[int, int]:
        row = await self.pool.fetchrow(
            "SELECT sold, held FROM ticketed_events WHERE event_id = $1", event_id
        )
        assert row is not None
        return row["sold"], row["held"]

    async def verify_offline(self, qr_payload: str, event_id: str) -> OfflineQrClaims:
        """Verify a QR as an offline scanner does: with the event's public keys alone."""
        async with self.client() as client:
            answer = await client.get(
                f"/events/{event_id}/check-in-key", headers=self.auth("qr-admin", "admin")
            )
        assert answer.status_code == 200, answer.text
        keys = {
            k["key_id"]: base64.urlsafe_b64decode(
                k["public_key"] + "=" * (-len(k["public_key"]) % 4)
            )
            for k in answer.json()["data"]["keys"]
        }
        return verify_offline_qr(qr_payload, keys)

    async def events_of(self, ticket_id: str) -> list[tuple[str, dict[str, Any]]]:
        """The ticket's events in the outbox, oldest first: (event_type, payload)."""
        rows = await self.pool.fetch(
            """SELECT event_type, body FROM outbox
                WHERE body -> 'payload' ->> 'ticket_id' = $1 ORDER BY created_at""",
            ticket_id,
        )
        return [(r["event_type"], r["body"]["payload"]) for r in rows]


async def _init(conn: asyncpg.Connection) -> None:
    import json

    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


@pytest.fixture(scope="session")
async def door(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Door]:
    dsn = await create_database(DATABASE)
    amqp_url = fresh_vhost(VHOST)
    port = free_port()
    logs = Path(tmp_path_factory.mktemp("door")) / "ticket-service.log"
    process = ServiceProcess(
        ["-m", "ticket_service"],
        env={
            "APP_ENV": "test",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(port),
            "DATABASE_URL": dsn,
            "DATABASE_POOL_MAX": "20",
            "AMQP_URL": amqp_url,
            "REDIS_URL": REDIS_URL,
            "QR_SIGNING_KEYS": QR_KEYS,
            "PAYMENT_SERVICE_URL": f"http://127.0.0.1:{free_port()}",
        },
        ready_url=f"http://127.0.0.1:{port}/readyz",
        log_path=logs,
    )
    await process.start()
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=5, init=_init)
    assert pool is not None
    try:
        yield Door(url=f"http://127.0.0.1:{port}", pool=pool)
    finally:
        await pool.close()
        process.stop()
