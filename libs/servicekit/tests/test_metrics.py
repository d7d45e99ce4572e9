"""`/metrics` of a service built with build_app: the figures move with the work it does."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aio_pika
import asyncpg
import httpx
import pytest
import uvicorn
from fastapi import APIRouter, FastAPI
from messaging_helpers import settled, wait_for
from metrics_helpers import scrape, total, value
from prometheus_client import Gauge
from pydantic import SecretStr
from servicekit.app import Runtime, ServiceParts, build_app
from servicekit.db import DbConn
from servicekit.jobs import PeriodicJob
from servicekit.messaging import Consumer
from servicekit.messaging.outbox import add_envelope
from servicekit.metrics import set_counts
from servicekit.settings import ServiceSettings
from servicekit.testing import create_database, free_port
from ticketing_contracts import EXCHANGE, EventEnvelope, new_event
from ticketing_contracts.routing import TICKET_SERVICE_PAYMENTS

SERVICE = "metrics-demo"
QUEUE = TICKET_SERVICE_PAYMENTS.queue
DEMO_ROWS = Gauge(
    "demo_rows", "Rows of the demo table by colour (a service's own figure).", ["colour"]
)


@dataclass
class Demo:
    url: str
    pool: asyncpg.Pool
    amqp_url: str
    release: asyncio.Event = field(default_factory=asyncio.Event)
    job_runs: int = 0


@pytest.fixture(scope="module")
async def demo(amqp_url: str) -> AsyncIterator[Demo]:
    dsn = await create_database("servicekit_metrics_test")
    settings = ServiceSettings(
        service_name=SERVICE,
        database_url=SecretStr(dsn),
        amqp_url=SecretStr(amqp_url),
        redis_url=SecretStr("redis://127.0.0.1:6379/1"),
        outbox_poll_seconds=0.05,
        consumer_prefetch=1,
        consumer_max_attempts=2,
    )
    router = APIRouter()
    state: dict[str, Demo] = {}

    @router.post("/orders/{order_id}")
    async def create_order(order_id: str, conn: DbConn) -> dict[str, str]:
        async with conn.transaction():
            envelope = await app.state.runtime.outbox.add(conn, settled(7))
        return {"order_id": order_id, "event_id": str(envelope.event_id)}

    async def on_settled(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        order_id = envelope.payload["order_id"]
        if order_id.startswith("BLOCK"):
            await state["demo"].release.wait()
        if order_id.startswith("FAIL"):
            raise RuntimeError("this order always fails")
        await conn.execute("INSERT INTO demo (colour) VALUES ('red')")

    async def count_demo_rows(conn: asyncpg.Connection) -> None:
        rows = await conn.fetch("SELECT colour, count(*) AS count FROM demo GROUP BY colour")
        set_counts(DEMO_ROWS, rows, ["colour"], known=[("red",), ("blue",)])

    @asynccontextmanager
    async def setup(app: FastAPI, runtime: Runtime) -> AsyncIterator[ServiceParts]:
        await runtime.pool.execute("CREATE TABLE IF NOT EXISTS demo (colour text)")

        async def tick() -> int:
            state["demo"].job_runs += 1
            return 2

        yield ServiceParts(
            consumers=[Consumer(SERVICE, TICKET_SERVICE_PAYMENTS, {"payment.settled": on_settled})],
            jobs=[PeriodicJob("tick", 0.05, tick)],
            metrics=[count_demo_rows],
        )

    app = build_app(settings, title="metrics demo", routers=[router], setup=setup)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_config=None))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    demo = Demo(f"http://127.0.0.1:{port}", app.state.runtime.pool, amqp_url)
    state["demo"] = demo
    yield demo
    demo.release.set()
    server.should_exit = True
    await task


async def publish(amqp_url: str, *order_ids: str) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection, connection.channel() as channel:
        exchange = await channel.get_exchange(EXCHANGE)
        for order_id in order_ids:
            payload = settled(1).model_copy(update={"order_id": order_id})
            envelope = new_event(payload, producer="tests")
            await exchange.publish(
                aio_pika.Message(body=envelope.model_dump_json().encode()),
                routing_key=envelope.event_type,
            )


async def test_requests_are_counted_and_timed_under_their_route_template(demo: Demo) -> None:
    labels = {"service": SERVICE, "method": "POST", "route": "/orders/{order_id}"}
    before = await scrape(demo.url)
    async with httpx.AsyncClient() as client:
        for n in range(3):
            assert (await client.post(f"{demo.url}/orders/ORDER-{n}")).status_code == 200
    after = await scrape(demo.url)
    assert value(after, "http_requests_total", **labels, status="200") == (
        value(before, "http_requests_total", **labels, status="200") + 3
    )
    assert value(after, "http_request_duration_seconds_count", **labels) == (
        value(before, "http_request_duration_seconds_count", **labels) + 3
    )
    # One series per route, never per raw path.
    assert not any("ORDER-1" in str(key) for key in after)


async def test_requests_no_route_matched_share_one_label(demo: Demo) -> None:
    before = await scrape(demo.url)
    async with httpx.AsyncClient() as client:
        for path in ("/nope/1", "/nope/2"):
            assert (await client.get(f"{demo.url}{path}")).status_code == 404
    after = await scrape(demo.url)
    labels = {"service": SERVICE, "method": "GET", "route": "<unmatched>", "status": "404"}
    assert value(after, "http_requests_total", **labels) == (
        value(before, "http_requests_total", **labels) + 2
    )


async def test_outbox_backlog_and_oldest_unsent_age_come_from_the_database(demo: Demo) -> None:
    envelope = new_event(settled(9), producer=SERVICE)
    async with demo.pool.acquire() as conn, conn.transaction():
        await add_envelope(conn, envelope)
        # Not due for an hour and written a minute ago: the relay leaves it, the age shows it.
        # One transaction, so the relay, woken by the commit, never sees the row due.
        await conn.execute(
            """UPDATE outbox SET next_attempt_at = now() + interval '1 hour',
                                 created_at = now() - interval '60 seconds'
               WHERE event_id = $1""",
            envelope.event_id,
        )
    try:
        stuck = await scrape(demo.url)
        assert value(stuck, "outbox_backlog_events", service=SERVICE) >= 1
        assert value(stuck, "outbox_oldest_unsent_age_seconds", service=SERVICE) >= 60
    finally:
        await demo.pool.execute("DELETE FROM outbox WHERE event_id = $1", envelope.event_id)
    clear = await scrape(demo.url)
    assert value(clear, "outbox_backlog_events", service=SERVICE) == 0
    assert value(clear, "outbox_oldest_unsent_age_seconds", service=SERVICE) == 0


async def test_published_events_are_counted_by_the_relay(demo: Demo) -> None:
    before = await scrape(demo.url)
    async with httpx.AsyncClient() as client:
        await client.post(f"{demo.url}/orders/ORDER-R")

    async def published() -> bool:
        now = await scrape(demo.url)
        return value(now, "outbox_published_total") >= value(before, "outbox_published_total") + 1

    await wait_for(published, timeout=10)


async def test_consumer_counts_applied_and_dead_lettered_messages_and_the_dlq_depth(
    demo: Demo,
) -> None:
    base = {"queue": QUEUE, "event_type": "payment.settled"}
    before = await scrape(demo.url)
    await publish(demo.amqp_url, "ORDER-A", "FAIL-1")

    async def handled() -> bool:
        now = await scrape(demo.url)
        return (
            value(now, "consumer_messages_total", **base, outcome="dead_lettered")
            >= value(before, "consumer_messages_total", **base, outcome="dead_lettered") + 1
        )

    await wait_for(handled, timeout=15)
    after = await scrape(demo.url)
    for outcome, more in (("applied", 1), ("retried", 1), ("dead_lettered", 1)):
        assert value(after, "consumer_messages_total", **base, outcome=outcome) >= (
            value(before, "consumer_messages_total", **base, outcome=outcome) + more
        ), outcome
    assert value(after, "consumer_handling_seconds_count", **base) >= (
        value(before, "consumer_handling_seconds_count", **base) + 3
    )
    assert value(after, "consumer_dead_letter_messages", queue=QUEUE) >= (
        value(before, "consumer_dead_letter_messages", queue=QUEUE) + 1
    )


async def test_queue_depth_shows_the_consumers_lag(demo: Demo) -> None:
    demo.release.clear()
    # Prefetch 1: while the first is held by its handler, the next three wait in the queue.
    await publish(demo.amqp_url, "BLOCK-1", "ORDER-L1", "ORDER-L2", "ORDER-L3")

    async def lagging() -> bool:
        now = await scrape(demo.url)
        return value(now, "consumer_queue_messages_ready", queue=QUEUE) == 3

    try:
        await wait_for(lagging, timeout=10)
        held = await scrape(demo.url)
        assert value(held, "consumer_messages_in_progress", queue=QUEUE) == 1
    finally:
        demo.release.set()

    async def caught_up() -> bool:
        now = await scrape(demo.url)
        return value(now, "consumer_queue_messages_ready", queue=QUEUE) == 0

    await wait_for(caught_up, timeout=10)


async def test_a_services_own_figures_are_read_at_scrape_time(demo: Demo) -> None:
    await demo.pool.execute("DELETE FROM demo")
    empty = await scrape(demo.url)
    assert value(empty, "demo_rows", colour="red") == 0
    assert value(empty, "demo_rows", colour="blue") == 0
    await demo.pool.execute("INSERT INTO demo (colour) VALUES ('red'), ('red'), ('green')")
    now = await scrape(demo.url)
    assert value(now, "demo_rows", colour="red") == 2
    assert value(now, "demo_rows", colour="green") == 1
    await demo.pool.execute("DELETE FROM demo WHERE colour = 'green'")
    # A state that emptied disappears rather than keeping its stale count.
    assert ("demo_rows", frozenset({("colour", "green")})) not in await scrape(demo.url)


async def test_background_job_runs_and_items_are_counted(demo: Demo) -> None:
    labels = {"service": SERVICE, "job_name": "tick"}
    before = await scrape(demo.url)
    runs_before = demo.job_runs
    await asyncio.sleep(0.3)
    after = await scrape(demo.url)
    assert demo.job_runs > runs_before
    ran = value(after, "background_job_runs_total", **labels, outcome="ok") - value(
        before, "background_job_runs_total", **labels, outcome="ok"
    )
    assert ran >= 2
    assert value(after, "background_job_items_total", **labels) - value(
        before, "background_job_items_total", **labels
    ) == pytest.approx(2 * ran, abs=4)
    assert total(after, "background_job_duration_seconds_count", **labels) >= ran


async def test_process_figures_are_exported(demo: Demo) -> None:
    samples = await scrape(demo.url)
    assert value(samples, "process_resident_memory_bytes") > 10_000_000
    assert datetime.now(UTC).timestamp() - value(samples, "process_start_time_seconds") < 3600


async def test_a_redelivered_event_counts_as_a_duplicate(demo: Demo) -> None:
    base = {"queue": QUEUE, "event_type": "payment.settled"}
    before = await scrape(demo.url)
    envelope = new_event(settled(1).model_copy(update={"order_id": "ORDER-D"}), producer="tests")
    connection = await aio_pika.connect(demo.amqp_url)
    async with connection, connection.channel() as channel:
        exchange = await channel.get_exchange(EXCHANGE)
        for _ in range(2):
            await exchange.publish(
                aio_pika.Message(body=envelope.model_dump_json().encode()),
                routing_key=envelope.event_type,
            )

    async def both_taken() -> bool:
        now = await scrape(demo.url)
        return value(now, "consumer_messages_total", **base, outcome="duplicate") >= (
            value(before, "consumer_messages_total", **base, outcome="duplicate") + 1
        )

    await wait_for(both_taken, timeout=10)
    after = await scrape(demo.url)
    assert value(after, "consumer_messages_total", **base, outcome="applied") >= (
        value(before, "consumer_messages_total", **base, outcome="applied") + 1
    )
