"""Purchase-path fixtures: ticket-service, payment-service and the Midtrans sandbox, as processes.

Database `ticket_service_test` (ticket-service) and `ticket_service_test_payments`
(payment-service), RabbitMQ vhost `ticket_test` shared by both (so payment events travel for
real), Redis db 2. Each test makes its own events and users with fresh UUIDs, so tests share
the processes without seeing each other.
"""

import asyncio
import base64
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import aio_pika
import asyncpg
import httpx
import pytest
from servicekit.auth import issue_token
from servicekit.db import open_pool
from servicekit.testing import (
    ServiceProcess,
    create_database,
    free_port,
    fresh_vhost,
    publish_envelope,
)
from ticket_service.domain.offline_qr import OfflineQrClaims, verify_offline_qr
from ticket_service.settings import TicketSettings
from ticketing_contracts import EventPayload, new_event

DATABASE = "ticket_service_test"
PAYMENTS_DATABASE = "ticket_service_test_payments"
VHOST = "ticket_test"
REDIS_URL = "redis://127.0.0.1:6379/2"
LOGS = Path("/tmp/ticket-service-tests")
SERVER_KEY = "SB-Mid-server-ticket-tests"
SETTINGS = TicketSettings()  # JWT defaults shared with the processes
T = TypeVar("T")


def auth(sub: str, *roles: str) -> dict[str, str]:
    token = issue_token(SETTINGS, sub=sub, roles=roles or ("user",))
    return {"Authorization": f"Bearer {token}"}


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, timeout: float = 10.0, interval: float = 0.05
) -> T:
    """Poll `probe` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


@dataclass
class Stack:
    ticket_url: str
    replica_url: str
    payment_url: str
    sandbox_url: str
    pool: asyncpg.Pool
    amqp: aio_pika.abc.AbstractRobustConnection
    processes: dict[str, ServiceProcess] = field(default_factory=dict)

    auth = staticmethod(auth)
    eventually = staticmethod(eventually)

    def client(self, url: str | None = None) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=300, max_keepalive_connections=300)
        return httpx.AsyncClient(base_url=url or self.ticket_url, timeout=30, limits=limits)

    async def put_event(
        self,
        *,
        host: str | None = None,
        price: int = 50_000,
        capacity: int = 10,
        url: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        event_id = str(uuid.uuid4())
        body = {
            "title": "Jazz di Taman Menteng",
            "venue": "Taman Menteng, Jakarta",
            "starts_at": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
            "price": price,
            "currency": "IDR",
            "capacity": capacity,
            **extra,
        }
        async with self.client(url) as client:
            response = await client.put(
                f"/events/{event_id}", json=body, headers=auth(host or f"host-{event_id}", "host")
            )
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    def purchase_body(self, event: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "event_id": event["id"],
            "customer_name": "Siti Rahma",
            "customer_email": "siti@example.id",
            "customer_phone": "+6281234567890",
            "amount": event["price"],
            **extra,
        }

    async def buy(
        self,
        event: dict[str, Any],
        user: str | None = None,
        *,
        client: httpx.AsyncClient | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> httpx.Response:
        user = user or f"buyer-{uuid.uuid4()}"
        request_headers = {**auth(user), **(headers or {})}
        body = self.purchase_body(event, **extra)
        if client is not None:
            return await client.post("/tickets/purchase", json=body, headers=request_headers)
        async with self.client() as own:
            return await own.post("/tickets/purchase", json=body, headers=request_headers)

    async def seats(self, event_id: str) -> dict[str, int]:
        row = await self.pool.fetchrow(
            "SELECT capacity, sold, held FROM ticketed_events WHERE event_id = $1", event_id
        )
        assert row is not None
        return dict(row)

    async def ticket_row(self, ticket_id: str) -> asyncpg.Record:
        return await self.pool.fetchrow(
            """SELECT t.*, x.status AS transaction_status, x.completed_at, x.payment_method,
                      x.payment_gateway_id, x.order_id
                 FROM tickets t JOIN ticket_transactions x ON x.ticket_id = t.id
                WHERE t.id = $1""",
            uuid.UUID(ticket_id),
        )

    async def ticket_status(self, ticket_id: str) -> str:
        return str(
            await self.pool.fetchval(
                "SELECT status FROM tickets WHERE id = $1", uuid.UUID(ticket_id)
            )
        )

    async def outbox_events(self, ticket_id: str) -> list[str]:
        rows = await self.pool.fetch(
            """SELECT event_type FROM outbox WHERE body->'payload'->>'ticket_id' = $1
                ORDER BY created_at""",
            ticket_id,
        )
        return [r["event_type"] for r in rows]

    async def outbox_payload(self, ticket_id: str, event_type: str) -> dict[str, Any]:
        body = await self.pool.fetchval(
            """SELECT body FROM outbox
                WHERE body->'payload'->>'ticket_id' = $1 AND event_type = $2""",
            ticket_id,
            event_type,
        )
        assert body is not None, f"no {event_type} for {ticket_id}"
        payload: dict[str, Any] = body["payload"]
        return payload

    async def verify_offline(self, qr_payload: str, event_id: str) -> OfflineQrClaims:
        """Verify a QR as an offline scanner does: with the event's public keys alone."""
        async with self.client() as client:
            answer = await client.get(
                f"/events/{event_id}/check-in-key", headers=auth("qr-admin", "admin")
            )
        assert answer.status_code == 200, answer.text
        keys = {
            k["key_id"]: base64.urlsafe_b64decode(
                k["public_key"] + "=" * (-len(k["public_key"]) % 4)
            )
            for k in answer.json()["data"]["keys"]
        }
        return verify_offline_qr(qr_payload, keys)

    async def publish(self, payload: EventPayload, *, event_id: uuid.UUID | None = None) -> str:
        """Publish a contract event to the broker as payment-service would; returns its id."""
        envelope = new_event(payload, producer="payment-service")
        if event_id is not None:
            envelope = envelope.model_copy(update={"event_id": event_id})
        await publish_envelope(self.amqp, envelope)
        return str(envelope.event_id)

    async def end_hold(self, ticket_id: str) -> None:
        """Let the 15 minutes pass: the hold of a pending ticket ends now."""
        await self.pool.execute(
            "UPDATE tickets SET hold_expires_at = now() WHERE id = $1 AND status = 'pending'",
            uuid.UUID(ticket_id),
        )

    async def inbox_has(self, event_id: str) -> bool:
        return bool(
            await self.pool.fetchval(
                "SELECT true FROM inbox WHERE consumer = 'ticket-service' AND event_id = $1",
                uuid.UUID(event_id),
            )
        )


def _ticket_env(dsn: str, amqp: str, port: int, payment_url: str, **extra: str) -> dict[str, str]:
    return {
        "APP_ENV": "test",
        "HTTP_PORT": str(port),
        "DATABASE_URL": dsn,
        "AMQP_URL": amqp,
        "REDIS_URL": REDIS_URL,
        "PAYMENT_SERVICE_URL": payment_url,
        "PAYMENT_SERVICE_TIMEOUT_SECONDS": "10",
        "HOLD_SWEEP_INTERVAL_SECONDS": "0.2",
        "WAITLIST_SWEEP_INTERVAL_SECONDS": "0.2",
        "OUTBOX_POLL_SECONDS": "0.05",
        "DATABASE_POOL_MAX": "8",
        # Longer than the default second, so a seat back without a NOTIFY shows in the tests.
        "SOLD_OUT_MEMORY_SECONDS": "10",
        **extra,
    }


@pytest.fixture(scope="session")
async def stack() -> AsyncIterator[Stack]:
    dsn = await create_database(DATABASE)
    payments_dsn = await create_database(PAYMENTS_DATABASE)
    amqp_url = fresh_vhost(VHOST)
    ports = {name: free_port() for name in ("ticket", "replica", "payment", "sandbox")}
    payment_url = f"http://127.0.0.1:{ports['payment']}"
    sandbox_url = f"http://127.0.0.1:{ports['sandbox']}"
    LOGS.mkdir(parents=True, exist_ok=True)

    sandbox = ServiceProcess(
        ["-m", "midtrans_sandbox", "--port", str(ports["sandbox"])],
        env={
            "MIDTRANS_SERVER_KEY": SERVER_KEY,
            "MIDTRANS_NOTIFICATION_URL": f"{payment_url}/api/payment/notification",
            "SANDBOX_RETRY_SCALE": "0.001",
        },
        ready_url=f"{sandbox_url}/_sandbox/health",
        log_path=LOGS / "midtrans-sandbox.log",
    )
    payment = ServiceProcess(
        ["-m", "payment_service"],
        env={
            "APP_ENV": "test",
            "HTTP_PORT": str(ports["payment"]),
            "DATABASE_URL": payments_dsn,
            "AMQP_URL": amqp_url,
            "REDIS_URL": REDIS_URL,
            "MIDTRANS_SERVER_KEY": SERVER_KEY,
            "MIDTRANS_SNAP_BASE_URL": f"{sandbox_url}/snap/v1",
            "MIDTRANS_CORE_BASE_URL": sandbox_url,
            "MIDTRANS_NOTIFICATION_URL": f"{payment_url}/api/payment/notification",
            "OUTBOX_POLL_SECONDS": "0.05",
        },
        ready_url=f"{payment_url}/readyz",
        log_path=LOGS / "payment-service.log",
    )
    ticket = ServiceProcess(
        ["-m", "ticket_service"],
        env=_ticket_env(dsn, amqp_url, ports["ticket"], payment_url),
        ready_url=f"http://127.0.0.1:{ports['ticket']}/readyz",
        log_path=LOGS / "ticket-service.log",
    )
    # A second replica: two sweepers and two consumers on one database and one queue.
    replica = ServiceProcess(
        ["-m", "ticket_service"],
        env=_ticket_env(dsn, amqp_url, ports["replica"], payment_url),
        ready_url=f"http://127.0.0.1:{ports['replica']}/readyz",
        log_path=LOGS / "ticket-service-replica.log",
    )
    await sandbox.start()
    await ticket.start()  # applies the migrations before the second replica starts
    await asyncio.gather(payment.start(), replica.start())
    pool = await open_pool(dsn, min_size=1, max_size=5)
    amqp = await aio_pika.connect_robust(amqp_url)
    stack = Stack(
        ticket_url=f"http://127.0.0.1:{ports['ticket']}",
        replica_url=f"http://127.0.0.1:{ports['replica']}",
        payment_url=payment_url,
        sandbox_url=sandbox_url,
        pool=pool,
        amqp=amqp,
        processes={
            "sandbox": sandbox,
            "payment": payment,
            "ticket": ticket,
            "replica": replica,
        },
    )
    try:
        yield stack
    finally:
        await amqp.close()
        await pool.close()
        for process in (replica, ticket, payment, sandbox):
            process.stop()
