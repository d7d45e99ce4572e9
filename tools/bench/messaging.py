"""Benchmark: events through outbox -> relay -> RabbitMQ -> inbox consumer, end to end.

Writes N events in transactions of 10, runs one relay and one inbox consumer on the real
PostgreSQL and RabbitMQ (database and vhost `bench`), and measures how long until every event's
effect is committed. Prints events/s and the latency from outbox commit to effect commit.
"""

import asyncio
import statistics
import time
from datetime import UTC, datetime

import aio_pika
import asyncpg
from servicekit.db import open_pool
from servicekit.messaging import Consumer, InboxConsumer, Outbox, OutboxRelay, declare_topology
from servicekit.migrations import apply_migrations
from servicekit.testing import create_database, fresh_vhost
from ticketing_contracts import EventEnvelope, PaymentSettled
from ticketing_contracts.routing import TICKET_SERVICE_PAYMENTS

OUTBOX = Outbox(producer="bench")


async def run(events: int = 2000) -> dict[str, float]:
    dsn = await create_database("bench_messaging")
    amqp_url = fresh_vhost("bench")
    pool = await open_pool(dsn, min_size=4, max_size=20)
    await apply_migrations(pool)
    await pool.execute(
        "CREATE TABLE effects (event_id uuid PRIMARY KEY, committed_at timestamptz DEFAULT now())"
    )
    connection = await aio_pika.connect_robust(amqp_url)
    async with connection.channel() as channel:
        await declare_topology(channel)

    async def apply(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        await conn.execute("INSERT INTO effects (event_id) VALUES ($1)", envelope.event_id)

    consumer = InboxConsumer(
        Consumer("bench", TICKET_SERVICE_PAYMENTS, {"payment.settled": apply}), pool, connection
    )
    await consumer.start()
    relay = OutboxRelay(pool, connection, poll_seconds=0.05)
    relay_task = asyncio.create_task(relay.run())

    started = time.perf_counter()
    for batch in range(events // 10):
        async with pool.acquire() as conn, conn.transaction():
            for n in range(10):
                await OUTBOX.add(conn, _payload(batch * 10 + n))
    written = time.perf_counter() - started
    while await pool.fetchval("SELECT count(*) FROM effects") < events:  # noqa: ASYNC110 - polling the database is the measurement
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started

    latencies = [
        r["ms"]
        for r in await pool.fetch(
            """SELECT extract(epoch FROM e.committed_at - o.created_at) * 1000 AS ms
               FROM effects e JOIN outbox o USING (event_id)"""
        )
    ]
    relay_task.cancel()
    await asyncio.gather(relay_task, return_exceptions=True)
    await consumer.stop()
    await connection.close()
    await pool.close()
    latencies = sorted(float(x) for x in latencies)
    return {
        "events": events,
        "write_seconds": round(written, 2),
        "total_seconds": round(elapsed, 2),
        "events_per_second": round(events / elapsed, 1),
        "latency_ms_p50": round(statistics.median(latencies), 1),
        "latency_ms_p95": round(latencies[int(len(latencies) * 0.95) - 1], 1),
        "latency_ms_max": round(latencies[-1], 1),
    }


def _payload(n: int) -> PaymentSettled:
    return PaymentSettled(
        order_id=f"BENCH-{n}",
        ticket_id=f"t-{n}",
        event_id="e-1",
        user_id="u-1",
        amount=150_000,
        customer_name="Bench",
        customer_email="bench@example.id",
        settled_at=datetime.now(UTC),
    )
