"""SIGTERM under load loses nothing: every request answered, every message applied once.

The service (tests/drain_app.py) runs as a real process through `servicekit.serve`, with slow
requests and slow handlers, so SIGTERM lands while both are in flight.
"""

import asyncio
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aio_pika
import asyncpg
import httpx
import pytest
from aio_pika.abc import AbstractRobustConnection
from messaging_helpers import settled, wait_for
from servicekit.testing import (
    ServiceProcess,
    create_database,
    free_port,
    metric,
    scrape_metrics,
)
from ticketing_contracts import EXCHANGE, new_event
from ticketing_contracts.routing import NOTIFICATION_GATEWAY_ALL, TICKET_SERVICE_PAYMENTS

APP = Path(__file__).parent / "drain_app.py"
DRAIN_SECONDS = 1.5
MESSAGES = 60


@pytest.fixture
async def drain_db() -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    dsn = await create_database("servicekit_drain_test")
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=4)
    yield dsn, pool
    await pool.close()


def service(dsn: str, amqp_url: str, log_path: Path) -> tuple[ServiceProcess, str]:
    port = free_port()
    env = {
        "SERVICE_NAME": "drain-demo",
        "HTTP_PORT": str(port),
        "DATABASE_URL": dsn,
        "AMQP_URL": amqp_url,
        "REDIS_URL": "redis://127.0.0.1:6379/1",
        "SHUTDOWN_DRAIN_SECONDS": str(DRAIN_SECONDS),
        "CONSUMER_PREFETCH": "4",
        "OUTBOX_POLL_SECONDS": "0.5",
    }
    url = f"http://127.0.0.1:{port}"
    process = ServiceProcess(
        [sys.executable, str(APP)], env=env, ready_url=f"{url}/readyz", log_path=log_path
    )
    return process, url


async def publish_settled(amqp: AbstractRobustConnection, count: int) -> set[str]:
    ids = set()
    async with amqp.channel() as channel:
        exchange = await channel.get_exchange(EXCHANGE)
        for n in range(count):
            envelope = new_event(settled(n), producer="tests")
            ids.add(str(envelope.event_id))
            await exchange.publish(
                aio_pika.Message(body=envelope.model_dump_json().encode()),
                routing_key=envelope.event_type,
            )
    return ids


async def ready_count(amqp: AbstractRobustConnection, queue: str) -> int:
    async with amqp.channel() as channel:
        declared = await channel.declare_queue(queue, passive=True)
        return int(declared.declaration_result.message_count or 0)


async def test_sigterm_under_load_answers_every_request_and_applies_every_message_once(
    drain_db: tuple[str, asyncpg.Pool],
    amqp: AbstractRobustConnection,
    amqp_url: str,
    tmp_path: Path,
) -> None:
    dsn, pool = drain_db
    first, url = service(dsn, amqp_url, tmp_path / "first.log")
    await first.start()
    # servicekit.serve froze the start-up heap
    assert metric(await scrape_metrics(url), "process_heap_frozen_objects") > 10_000
    published = await publish_settled(amqp, MESSAGES)
    try:
        answered = await _sigterm_under_load(first, url, pool, amqp)
    finally:
        first.kill()
    await _next_replica_applies_the_rest(dsn, amqp_url, tmp_path, pool)
    effects = [str(r["event_id"]) for r in await pool.fetch("SELECT event_id FROM effects")]
    assert sorted(effects) == sorted(published)
    # Each answered request's ticket.checked_in was published once (the settlements, which
    # no one is told of, never travel there).
    assert await ready_count(amqp, NOTIFICATION_GATEWAY_ALL.queue) == answered


async def _sigterm_under_load(
    first: ServiceProcess, url: str, pool: asyncpg.Pool, amqp: AbstractRobustConnection
) -> int:
    """SIGTERM while requests and handlers are in flight; return how many requests were sent."""
    assert first.process is not None

    answers: dict[str, int | str] = {}
    readiness: list[int] = []
    closing: list[str | None] = []
    stop_sending = asyncio.Event()

    async def send_orders(worker: int) -> None:
        async with httpx.AsyncClient(timeout=15) as client:
            n = 0
            while not stop_sending.is_set():
                order_id = f"W{worker}-{n}"
                n += 1
                try:
                    response = await client.post(f"{url}/orders/{order_id}")
                    answers[order_id] = response.status_code
                except httpx.HTTPError as exc:
                    answers[order_id] = type(exc).__name__

    async def watch_readiness() -> None:
        async with httpx.AsyncClient(timeout=5) as client:
            while not stop_sending.is_set():
                response = await client.get(f"{url}/readyz")
                readiness.append(response.status_code)
                closing.append(response.headers.get("connection"))
                await asyncio.sleep(0.1)

    load = [asyncio.create_task(send_orders(w)) for w in range(8)]
    await asyncio.sleep(0.6)
    assert await pool.fetchval("SELECT count(*) FROM effects") < MESSAGES  # still working
    first.process.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    watcher = asyncio.create_task(watch_readiness())
    # Keep sending through most of the drain delay: the listener is still open then.
    await asyncio.sleep(DRAIN_SECONDS - 0.5)
    stop_sending.set()
    await asyncio.gather(*load, watcher)
    exit_code = await asyncio.to_thread(first.process.wait, 30)
    stopped_after = time.monotonic() - signalled

    assert exit_code == 0, first.log_tail()
    assert stopped_after >= DRAIN_SECONDS
    # Readiness dropped at once while requests were still answered.
    assert readiness and readiness[0] == 503 and set(readiness) == {503}
    # Each answer while draining ends its connection: no keep-alive reuse meets the close.
    assert set(closing) == {"close"}
    failed = {order: status for order, status in answers.items() if status != 200}
    assert not failed, f"requests not answered: {failed}\n{first.log_tail()}"
    assert len(answers) > 16
    stored = {r["order_id"] for r in await pool.fetch("SELECT order_id FROM orders")}
    assert stored == set(answers)
    # Every event of an answered request left the outbox before the process exited.
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0
    assert await pool.fetchval("SELECT count(*) FROM outbox") == len(answers)

    # Every handler that started was finished and committed; nothing started was dropped.
    started = {r["event_id"] for r in await pool.fetch("SELECT event_id FROM handler_started")}
    applied = [r["event_id"] for r in await pool.fetch("SELECT event_id FROM effects")]
    assert started == set(applied), "a handler in flight at SIGTERM was abandoned"
    assert 0 < len(applied) < MESSAGES
    assert len(applied) == len(set(applied))
    assert await ready_count(amqp, TICKET_SERVICE_PAYMENTS.queue) == MESSAGES - len(applied)
    return len(answers)


async def _next_replica_applies_the_rest(
    dsn: str, amqp_url: str, tmp_path: Path, pool: asyncpg.Pool
) -> None:
    """The next replica takes the rest of the queue."""
    second, _ = service(dsn, amqp_url, tmp_path / "second.log")
    async with second:

        async def all_applied() -> bool:
            return await pool.fetchval("SELECT count(*) FROM effects") >= MESSAGES

        await wait_for(all_applied, timeout=30)
        await asyncio.sleep(0.5)
