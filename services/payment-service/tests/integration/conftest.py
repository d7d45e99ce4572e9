"""payment-service for real: PostgreSQL, RabbitMQ, sandbox and service as processes.

The sandbox delivers notifications over HTTP to the service (X-Override-Notification); a test
queue bound to `ticketing.events` in the `payment_test` vhost shows what reached the broker.
"""

import asyncio
import base64
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import httpx
import pytest
import pytest_asyncio
from servicekit.auth import issue_token
from servicekit.service_tokens import issue_service_token
from servicekit.settings import ServiceSettings
from servicekit.testing import ServiceProcess, create_database, free_port, fresh_vhost
from ticketing_contracts import EXCHANGE, EventPayload, new_event

SERVER_KEY = f"SB-Mid-server-test-{secrets.token_hex(8)}"
JWT = ServiceSettings()


@dataclass
class BrokerTap:
    """Every payment.* message that reached the exchange, as (routing_key, envelope)."""

    messages: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def of(self, order_id: str, event_type: str | None = None) -> list[dict[str, Any]]:
        return [
            body
            for key, body in self.messages
            if body["payload"].get("order_id") == order_id
            and (event_type is None or key == event_type)
        ]


@dataclass
class Stack:
    db: asyncpg.Pool
    amqp_url: str
    sandbox_url: str
    service_url: str
    service: ServiceProcess
    sandbox: ServiceProcess
    tap: BrokerTap
    env: dict[str, str]
    logs: Path
    http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=15))

    @staticmethod
    def new_order_id() -> str:
        return new_order_id()

    # ----- tokens -----

    def token(self, sub: str, *roles: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(JWT, sub=sub, roles=roles or ['user'])}"}

    @property
    def service_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_service_token(JWT, sub='ticket-service')}"}

    # ----- payment-service -----

    async def open(
        self,
        *,
        order_id: str | None = None,
        amount: int = 150_000,
        user_id: str = "user-42",
        hold: timedelta = timedelta(minutes=15),
        phone: str | None = "+628123456789",
        service_url: str | None = None,
    ) -> httpx.Response:
        order_id = order_id or new_order_id()
        body = {
            "order_id": order_id,
            "amount": amount,
            "currency": "IDR",
            "customer": {"name": "Siti Rahma", "email": "siti@example.id", "phone": phone},
            "items": [
                {"id": "ticket", "name": "Jakarta Jazz Night", "price": amount, "quantity": 1}
            ],
            "expires_at": (datetime.now(UTC) + hold).isoformat(),
            "metadata": {
                "ticket_id": f"ticket-{order_id}",
                "event_id": "event-1",
                "user_id": user_id,
                "event_title": "Jakarta Jazz Night",
                "event_starts_at": "2026-12-20T19:00:00+07:00",
            },
        }
        return await self.http.post(
            f"{service_url or self.service_url}/internal/payments",
            json=body,
            headers=self.service_headers,
        )

    async def opened(self, **kwargs: Any) -> str:
        response = await self.open(**kwargs)
        assert response.status_code == 201, response.text
        return str(response.json()["data"]["order_id"])

    @staticmethod
    def sign(body: dict[str, Any]) -> dict[str, Any]:
        """Sign a notification body with the server key, as Midtrans (or a key thief) would."""
        raw = f"{body['order_id']}{body['status_code']}{body['gross_amount']}{SERVER_KEY}"
        return {**body, "signature_key": hashlib.sha512(raw.encode()).hexdigest()}

    async def notify(self, body: dict[str, Any] | bytes) -> httpx.Response:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return await self.http.post(
            f"{self.service_url}/api/payment/notification",
            content=content,
            headers={"Content-Type": "application/json"},
        )

    async def payment(self, order_id: str) -> asyncpg.Record:
        row = await self.db.fetchrow("SELECT * FROM payments WHERE order_id = $1", order_id)
        assert row is not None
        return row

    async def status_of(self, order_id: str) -> str:
        return str((await self.payment(order_id))["status"])

    async def wait_status(self, order_id: str, status: str, timeout: float = 10) -> None:
        await wait_until(
            lambda: self._has_status(order_id, status), timeout, f"{order_id} {status}"
        )

    async def _has_status(self, order_id: str, status: str) -> bool:
        return await self.status_of(order_id) == status

    async def wait_events(
        self, order_id: str, event_type: str, count: int = 1, timeout: float = 10
    ) -> list[dict[str, Any]]:
        async def enough() -> bool:
            return len(self.tap.of(order_id, event_type)) >= count

        await wait_until(enough, timeout, f"{count} {event_type} for {order_id}")
        return self.tap.of(order_id, event_type)

    # ----- the sandbox -----

    async def pay(
        self,
        order_id: str,
        payment_type: str | None,
        outcome: str,
        *,
        notify: bool = True,
        **extra: str,
    ) -> dict[str, Any]:
        """Pay at the sandbox; notify=False: Midtrans' notification is lost."""
        body: dict[str, Any] = {"outcome": outcome, "notify": notify, **extra}
        if payment_type:
            body["payment_type"] = payment_type
        response = await self.http.post(
            f"{self.sandbox_url}/_sandbox/orders/{order_id}/pay", json=body
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def replay(
        self, order_id: str, *, everything: bool = True, shuffle: bool = False
    ) -> None:
        response = await self.http.post(
            f"{self.sandbox_url}/_sandbox/orders/{order_id}/replay",
            json={"all": everything, "shuffle": shuffle},
        )
        assert response.status_code == 200, response.text

    async def sandbox_notifications(self, order_id: str) -> dict[str, Any]:
        response = await self.http.get(
            f"{self.sandbox_url}/_sandbox/notifications", params={"order_id": order_id}
        )
        return dict(response.json())

    async def deliveries_settled(self, order_id: str) -> None:
        """Wait until every notification of the order was delivered and nothing more is sent.

        (The sandbox's `in_flight` counts every order's deliveries, so it is not used here.)
        """
        seen: list[int] = []

        async def idle() -> bool:
            log = await self.sandbox_notifications(order_id)
            delivered = {a["notification_id"] for a in log["attempts"] if a["success"]}
            sent = {n["notification_id"] for n in log["notifications"]}
            seen.append(len(log["attempts"]))
            return sent <= delivered and len(seen) > 3 and seen[-1] == seen[-4]

        await wait_until(idle, 20, "sandbox deliveries")

    async def core(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        auth = base64.b64encode(f"{SERVER_KEY}:".encode()).decode()
        return await self.http.request(
            method,
            f"{self.sandbox_url}{path}",
            headers={"Authorization": f"Basic {auth}", "Accept": "application/json"},
            **kwargs,
        )

    async def replica(self, name: str, **overrides: str) -> tuple[ServiceProcess, str]:
        """Another payment-service process on the same database and vhost."""
        port = free_port()
        env = {
            **self.env,
            "HTTP_PORT": str(port),
            "MIDTRANS_NOTIFICATION_URL": f"http://127.0.0.1:{port}/api/payment/notification",
            **overrides,
        }
        process = await start_service(env, self.logs / f"{name}.log").start()
        return process, f"http://127.0.0.1:{port}"

    # ----- the broker -----

    async def publish(self, payload: EventPayload) -> None:
        envelope = new_event(payload, producer="ticket-service")
        connection = await aio_pika.connect(self.amqp_url)
        async with connection:
            channel = await connection.channel()
            exchange = await channel.get_exchange(EXCHANGE)
            await exchange.publish(
                aio_pika.Message(
                    body=envelope.model_dump_json().encode(),
                    message_id=str(envelope.event_id),
                    type=envelope.event_type,
                    content_type="application/json",
                ),
                routing_key=envelope.event_type,
            )


def new_order_id() -> str:
    return f"TIX-{uuid.uuid4().hex[:16]}"


async def wait_until(
    check: Callable[[], Awaitable[bool]], timeout: float, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if await check():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def service_env(
    port: int, db_url: str, amqp_url: str, sandbox_url: str, **extra: str
) -> dict[str, str]:
    return {
        "APP_ENV": "test",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(port),
        "DATABASE_URL": db_url,
        "AMQP_URL": amqp_url,
        "REDIS_URL": "redis://127.0.0.1:6379/3",
        "LOG_LEVEL": "DEBUG",
        "MIDTRANS_SERVER_KEY": SERVER_KEY,
        "MIDTRANS_SNAP_BASE_URL": f"{sandbox_url}/snap/v1",
        "MIDTRANS_CORE_BASE_URL": sandbox_url,
        "MIDTRANS_NOTIFICATION_URL": f"http://127.0.0.1:{port}/api/payment/notification",
        "OUTBOX_POLL_SECONDS": "0.05",
        "RECONCILE_INTERVAL_SECONDS": "0.5",
        "RECONCILE_PENDING_AFTER_SECONDS": "2",
        "RECONCILE_PAID_INTERVAL_SECONDS": "0.5",
        "UNPAID_GRACE_SECONDS": "1",
        "REFUND_INTERVAL_SECONDS": "0.2",
        "CLOSE_INTERVAL_SECONDS": "0.2",
        # Redis is shared by every test (and helper): the limits get their own test.
        "GUARD_KEY_PREFIX": f"payment-service-test-{uuid.uuid4().hex[:12]}",
        "SNAP_TOKEN_RATE_LIMIT": "100000",
        "STATUS_RATE_LIMIT": "100000",
        **extra,
    }


def start_service(env: dict[str, str], log: Path) -> ServiceProcess:
    return ServiceProcess(
        ["-m", "payment_service"],
        env=env,
        ready_url=f"http://127.0.0.1:{env['HTTP_PORT']}/readyz",
        log_path=log,
    )


def start_sandbox(port: int, log: Path) -> ServiceProcess:
    return ServiceProcess(
        ["-m", "midtrans_sandbox", "--port", str(port)],
        env={
            "MIDTRANS_SERVER_KEY": SERVER_KEY,
            "MIDTRANS_NOTIFICATION_URL": "",
            "SANDBOX_RETRY_SCALE": "0.001",
            "SANDBOX_SWEEP_INTERVAL": "0.2",
        },
        ready_url=f"http://127.0.0.1:{port}/_sandbox/health",
        log_path=log,
    )


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    logs = tmp_path_factory.mktemp("payment-service-logs")
    db_url = await create_database("payment_service_test")
    amqp_url = fresh_vhost("payment_test")
    sandbox_port, service_port = free_port(), free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    sandbox = await start_sandbox(sandbox_port, logs / "sandbox.log").start()
    env = service_env(service_port, db_url, amqp_url, sandbox_url)
    service = await start_service(env, logs / "service.log").start()

    tap = BrokerTap()
    connection = await aio_pika.connect_robust(amqp_url)
    channel = await connection.channel()
    exchange = await channel.get_exchange(EXCHANGE)
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(exchange, routing_key="payment.*")

    async def collect(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            tap.messages.append((message.routing_key or "", json.loads(message.body)))

    await queue.consume(collect)
    db = await asyncpg.create_pool(db_url, min_size=1, max_size=4)
    assert db is not None
    s = Stack(
        db=db,
        amqp_url=amqp_url,
        sandbox_url=sandbox_url,
        service_url=f"http://127.0.0.1:{service_port}",
        service=service,
        sandbox=sandbox,
        tap=tap,
        env=env,
        logs=logs,
    )
    try:
        yield s
    finally:
        await s.http.aclose()
        await db.close()
        await connection.close()
        service.stop()
        sandbox.stop()
