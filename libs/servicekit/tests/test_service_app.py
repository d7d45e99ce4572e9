"""A service built with build_app: ready when its dependencies are, events carry the request id."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn
from fastapi import APIRouter, FastAPI
from messaging_helpers import settled, wait_for
from pydantic import SecretStr
from servicekit.app import Runtime, ServiceParts, build_app
from servicekit.db import DbConn
from servicekit.jobs import PeriodicJob
from servicekit.settings import ServiceSettings
from servicekit.testing import create_database, free_port


@pytest.fixture(scope="module")
async def running_service(amqp_url: str) -> AsyncIterator[tuple[str, dict[str, int]]]:
    dsn = await create_database("servicekit_app_test")
    settings = ServiceSettings(
        service_name="demo-service",
        database_url=SecretStr(dsn),
        amqp_url=SecretStr(amqp_url),
        redis_url=SecretStr("redis://127.0.0.1:6379/1"),
        outbox_poll_seconds=0.05,
    )
    job_runs = {"count": 0}
    router = APIRouter()

    @router.post("/orders")
    async def create_order(conn: DbConn) -> dict[str, str]:
        async with conn.transaction():
            envelope = await app.state.runtime.outbox.add(conn, settled(7))
        return {"event_id": str(envelope.event_id)}

    @asynccontextmanager
    async def setup(app: FastAPI, runtime: Runtime) -> AsyncIterator[ServiceParts]:
        async def tick() -> None:
            job_runs["count"] += 1

        yield ServiceParts(jobs=[PeriodicJob("tick", 0.05, tick)])

    app = build_app(settings, title="demo", routers=[router], setup=setup)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_config=None))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}", job_runs
    server.should_exit = True
    await task


async def test_readyz_reports_database_broker_and_redis(
    running_service: tuple[str, dict[str, int]],
) -> None:
    url, _ = running_service
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"{url}/healthz")).json() == {"status": "alive"}
        ready = await client.get(f"{url}/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok", "redis": "ok"}


async def test_event_written_in_a_request_carries_its_request_id_to_the_broker(
    running_service: tuple[str, dict[str, int]], amqp_url: str
) -> None:
    import aio_pika
    from ticketing_contracts import EventEnvelope
    from ticketing_contracts.routing import TICKET_SERVICE_PAYMENTS

    url, _ = running_service
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{url}/orders", headers={"X-Request-ID": "req-from-gateway"})
    event_id = response.json()["event_id"]
    connection = await aio_pika.connect(amqp_url)
    async with connection, connection.channel() as channel:
        queue = await channel.get_queue(TICKET_SERVICE_PAYMENTS.queue)
        found: list[EventEnvelope] = []

        async def arrived() -> bool:
            message = await queue.get(no_ack=True, fail=False)
            if message is not None:
                found.append(EventEnvelope.model_validate_json(message.body))
            return any(str(e.event_id) == event_id for e in found)

        await wait_for(arrived, timeout=10)
    mine = next(e for e in found if str(e.event_id) == event_id)
    assert mine.correlation_id == "req-from-gateway"
    assert mine.producer == "demo-service"


async def test_background_jobs_run_repeatedly(running_service: tuple[str, dict[str, int]]) -> None:
    _, job_runs = running_service
    before = job_runs["count"]
    await asyncio.sleep(0.3)
    assert job_runs["count"] >= before + 2
