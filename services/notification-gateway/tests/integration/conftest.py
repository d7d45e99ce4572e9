"""The gateway for real: PostgreSQL, RabbitMQ (vhost notification_test), Redis db 4, the mail sink
as a process, an FCM receiver and ticket-service's receipt route over HTTP, and the app under
uvicorn on a free port."""

import asyncio
import json
import tempfile
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
import redis.asyncio as aioredis
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from notification_gateway.bootstrap import create_app
from notification_gateway.settings import NotificationSettings
from servicekit.auth import issue_token
from servicekit.errors import AppError
from servicekit.service_tokens import ServiceTokenVerifier
from servicekit.settings import ServiceSettings
from servicekit.testing import (
    ServiceProcess,
    create_database,
    free_port,
    fresh_vhost,
    publish_envelope,
    wait_until_ready,
)
from ticketing_contracts import EventEnvelope, TicketActivated, new_event

REDIS_URL = "redis://127.0.0.1:6379/4"


async def wait_for(
    check: Callable[[], Awaitable[Any]], *, timeout: float = 10.0, every: float = 0.05
) -> Any:
    """Poll `check` until it returns something truthy; return it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"condition not met within {timeout}s (last value {value!r})")
        await asyncio.sleep(every)


@dataclass
class FcmReceiver:
    """A stand-in for FCM: records requests; answers by the token's prefix."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)

    def for_token(self, token: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["body"]["message"]["token"] == token]


def _fcm_app(receiver: FcmReceiver) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/projects/{project}/messages:send")
    async def send(project: str, request: Request) -> JSONResponse:
        body = await request.json()
        token = body["message"]["token"]
        receiver.seen[token] = receiver.seen.get(token, 0) + 1
        receiver.requests.append(
            {"project": project, "headers": dict(request.headers), "body": body}
        )
        if token.startswith("dead-"):
            error = {
                "code": 404,
                "message": "Requested entity was not found.",
                "status": "NOT_FOUND",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                        "errorCode": "UNREGISTERED",
                    }
                ],
            }
            return JSONResponse({"error": error}, status_code=404)
        if token.startswith("down-") or (token.startswith("flaky-") and receiver.seen[token] < 3):
            error = {"code": 503, "message": "try later", "status": "UNAVAILABLE"}
            return JSONResponse({"error": error}, status_code=503)
        return JSONResponse({"name": f"projects/{project}/messages/{uuid.uuid4().hex}"})

    return app


@dataclass
class ReceiptDesk:
    """A stand-in for ticket-service's `GET /internal/orders/{id}/receipt.pdf`: it checks the
    service token as ticket-service does, answers the receipts it holds (404 for any other
    order), and 503 first as often as `unavailable` says for an order."""

    url: str
    receipts: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    unavailable: dict[str, int] = field(default_factory=dict)
    requests: list[dict[str, str]] = field(default_factory=list)

    def issue(self, order_id: str, number: str) -> bytes:
        pdf = f"%PDF-1.3 receipt {number}".encode()
        self.receipts[order_id] = (number, pdf)
        return pdf

    def asked_for(self, order_id: str) -> list[dict[str, str]]:
        return [r for r in self.requests if r["order_id"] == order_id]


def _receipt_app(desk: ReceiptDesk) -> FastAPI:
    app = FastAPI()
    verifier = ServiceTokenVerifier(ServiceSettings())  # the development key, as the gateway's

    @app.get("/internal/orders/{order_id}/receipt.pdf")
    async def receipt_pdf(order_id: str, request: Request, lang: str = "id") -> Response:
        _, _, token = request.headers.get("authorization", "").partition(" ")
        try:
            caller = verifier.verify(token)
        except AppError:
            return JSONResponse({"error": {"code": "invalid_service_token"}}, status_code=401)
        desk.requests.append({"order_id": order_id, "lang": lang, "caller": caller.user_id})
        if desk.unavailable.get(order_id, 0) > 0:
            desk.unavailable[order_id] -= 1
            return JSONResponse({"error": {"code": "unavailable"}}, status_code=503)
        if order_id not in desk.receipts:
            return JSONResponse({"error": {"code": "order_not_found"}}, status_code=404)
        number, pdf = desk.receipts[order_id]
        return Response(pdf, media_type="application/pdf", headers={"Receipt-Number": number})

    return app


class InProcessServer:
    def __init__(self, app: FastAPI, port: int) -> None:
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(config)
        self.task: asyncio.Task[None] | None = None

    async def start(self, ready_url: str) -> None:
        self.task = asyncio.create_task(self.server.serve())
        await wait_until_ready(ready_url, timeout=30)

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await asyncio.wait_for(self.task, timeout=15)


@dataclass
class Gateway:
    settings: NotificationSettings
    url: str
    client: httpx.AsyncClient
    db: asyncpg.Pool
    sink: httpx.AsyncClient
    smtp_port: int
    fcm: FcmReceiver
    amqp: aio_pika.abc.AbstractRobustConnection
    receipts: ReceiptDesk

    wait_for = staticmethod(wait_for)

    def activated(self, user_id: str | None = None, **changes: Any) -> EventEnvelope:
        return activated(user_id, **changes)

    def sse(
        self,
        user_id: str | None,
        last_event_id: str | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> "SseClient":
        headers = self.auth(user_id) if user_id else {}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        return SseClient(client or self.client, headers)

    def server_for(self, app: FastAPI, port: int) -> "InProcessServer":
        return InProcessServer(app, port)

    def token(self, user_id: str, roles: tuple[str, ...] = ("user",)) -> str:
        return issue_token(self.settings, sub=user_id, roles=roles)

    def auth(self, user_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user_id)}"}

    async def publish(self, envelope: EventEnvelope) -> None:
        await publish_envelope(self.amqp, envelope)

    async def mails_to(self, address: str) -> list[dict[str, Any]]:
        response = await self.sink.get("/messages", params={"to": address})
        data: list[dict[str, Any]] = response.json()["data"]
        return data

    async def deliveries(self, event_id: uuid.UUID) -> list[asyncpg.Record]:
        return await self.db.fetch(
            "SELECT * FROM deliveries WHERE event_id = $1 ORDER BY id", event_id
        )

    async def settled(self, event_id: uuid.UUID, count: int) -> list[asyncpg.Record]:
        """Wait until the event has `count` deliveries and none is pending; return them."""

        async def check() -> list[asyncpg.Record] | None:
            rows = await self.deliveries(event_id)
            done = len(rows) == count and all(r["status"] != "pending" for r in rows)
            return rows if done else None

        result: list[asyncpg.Record] = await wait_for(check)
        return result


@pytest.fixture(scope="session")
async def gateway() -> AsyncIterator[Gateway]:
    database_url = await create_database("notification_gateway_test")
    amqp_url = fresh_vhost("notification_test")
    redis = aioredis.from_url(REDIS_URL)
    await redis.flushdb()
    await redis.aclose()

    smtp_port, sink_port = free_port(), free_port()
    sink = ServiceProcess(
        ["-m", "mail_sink", "--smtp-port", str(smtp_port), "--http-port", str(sink_port)],
        env={},
        ready_url=f"http://127.0.0.1:{sink_port}/healthz",
        log_path=Path(tempfile.mkdtemp(prefix="notification-test-")) / "mail-sink.log",
    )
    await sink.start()

    fcm_port = free_port()
    fcm = FcmReceiver(url=f"http://127.0.0.1:{fcm_port}")
    fcm_server = InProcessServer(_fcm_app(fcm), fcm_port)
    await fcm_server.start(f"{fcm.url}/docs")
    desk_port = free_port()
    desk = ReceiptDesk(url=f"http://127.0.0.1:{desk_port}")
    desk_server = InProcessServer(_receipt_app(desk), desk_port)
    await desk_server.start(f"{desk.url}/docs")

    port = free_port()
    settings = NotificationSettings(
        app_env="test",
        http_port=port,
        database_url=database_url,
        amqp_url=amqp_url,
        redis_url=REDIS_URL,
        smtp_port=smtp_port,
        fcm_endpoint=fcm.url,
        fcm_project_id="ticketing-test",
        fcm_access_token="test-fcm-token",
        ticket_service_url=desk.url,
        delivery_poll_seconds=0.2,
        delivery_max_attempts=3,
        delivery_retry_base_seconds=0.05,
        delivery_retry_max_seconds=0.2,
        stream_heartbeat_seconds=0.5,
        log_level="WARNING",
    )
    server = InProcessServer(create_app(settings), port)
    url = f"http://127.0.0.1:{port}"
    await server.start(f"{url}/readyz")
    db = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    amqp = await aio_pika.connect_robust(amqp_url)
    async with (
        httpx.AsyncClient(base_url=url, timeout=10) as client,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{sink_port}", timeout=10) as sink_client,
    ):
        yield Gateway(settings, url, client, db, sink_client, smtp_port, fcm, amqp, desk)
    await amqp.close()
    await db.close()
    await server.stop()
    await fcm_server.stop()
    await desk_server.stop()
    sink.stop()


def activated(
    user_id: str | None = None, email: str | None = None, **changes: Any
) -> EventEnvelope:
    """A ticket.activated event for a fresh user (so tests never see each other's mail)."""
    tag = uuid.uuid4().hex[:10]
    ticket_id = str(uuid.uuid4())
    fields: dict[str, Any] = {
        "ticket_id": ticket_id,
        "event_id": str(uuid.uuid4()),
        "user_id": user_id or f"user-{tag}",
        "order_id": f"TIX-{tag}",
        "attendance_code": "K7P3",
        "holder_name": "Siti Rahma",
        "holder_email": email or f"siti-{tag}@example.id",
        "event_title": "Jakarta Jazz Night",
        "event_starts_at": datetime(2026, 12, 20, 12, 0, tzinfo=UTC),
        "event_venue": "Istora Senayan",
        "host_id": "host-7",
        "price_paid": 150000,
        "activated_at": datetime.now(UTC) - timedelta(seconds=1),
        "qr_payload": f"TKT1.{ticket_id}.K7P3.k1.c2lnbmF0dXJl",
    }
    fields.update(changes)
    return new_event(TicketActivated(**fields), producer="ticket-service")


@dataclass
class SseEvent:
    id: str | None
    event: str | None
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


class SseClient:
    """Reads a live SSE response in the background into a queue of events (comments skipped)."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self._client = client
        self._headers = headers
        self.events: asyncio.Queue[SseEvent] = asyncio.Queue()
        self.comments = 0
        self.status: int | None = None
        self.response_headers: httpx.Headers | None = None
        self._task: asyncio.Task[None] | None = None
        self._open = asyncio.Event()

    async def __aenter__(self) -> "SseClient":
        self._task = asyncio.create_task(self._read())
        await asyncio.wait_for(self._open.wait(), timeout=10)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _read(self) -> None:
        async with self._client.stream(
            "GET", "/notifications/stream", headers=self._headers, timeout=None
        ) as response:
            self.status = response.status_code
            self.response_headers = response.headers
            fields: dict[str, str] = {}
            data: list[str] = []
            async for line in response.aiter_lines():
                if line.startswith(":"):
                    self.comments += 1
                    self._open.set()
                    continue
                if line == "":
                    if data:
                        self.events.put_nowait(
                            SseEvent(fields.get("id"), fields.get("event"), "\n".join(data))
                        )
                    fields, data = {}, []
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "data":
                    data.append(value)
                else:
                    fields[name] = value
            self._open.set()

    async def next(self, timeout: float = 10.0) -> SseEvent:
        return await asyncio.wait_for(self.events.get(), timeout=timeout)
