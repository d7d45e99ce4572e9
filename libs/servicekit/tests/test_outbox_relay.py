"""The relay publishes every committed event, once between many relays, and loses none."""

import asyncio
import json
import subprocess

import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection
from messaging_helpers import OUTBOX, drain, record_effect, settled, wait_for, write_events
from servicekit.messaging import Consumer, InboxConsumer, OutboxRelay
from servicekit.messaging.outbox import add_envelope
from ticketing_contracts import EventEnvelope
from ticketing_contracts.routing import TICKET_SERVICE_PAYMENTS

QUEUE = TICKET_SERVICE_PAYMENTS.queue


class RelayThatDiesBeforeMarking(OutboxRelay):
    async def _mark_sent(self, conn: asyncpg.Connection, event_ids: object) -> None:
        raise RuntimeError("process killed between publish and mark")


async def test_published_message_is_persistent_with_event_id_as_message_id(
    pool: asyncpg.Pool, amqp: AbstractRobustConnection
) -> None:
    [event_id] = await write_events(pool, 1)
    await OutboxRelay(pool, amqp).relay_once()

    [message] = await drain(amqp, QUEUE, expect=1)
    assert message.message_id == event_id
    assert message.delivery_mode == 2
    assert message.routing_key == "payment.settled"
    body = json.loads(message.body)
    assert body["event_id"] == event_id and body["payload"]["order_id"] == "ORDER-0"
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0


async def test_rolled_back_transaction_publishes_nothing(
    pool: asyncpg.Pool, amqp: AbstractRobustConnection
) -> None:
    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError):
            async with conn.transaction():
                await OUTBOX.add(conn, settled(1))
                raise RuntimeError("the state change failed")
    assert await OutboxRelay(pool, amqp).relay_once() == 0
    assert await drain(amqp, QUEUE, expect=0) == []


async def test_relay_dying_between_publish_and_mark_leads_to_a_duplicate_the_inbox_drops(
    pool: asyncpg.Pool, amqp: AbstractRobustConnection
) -> None:
    ids = await write_events(pool, 5)
    with pytest.raises(RuntimeError, match="killed"):
        await RelayThatDiesBeforeMarking(pool, amqp).relay_once()
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 5
    assert await OutboxRelay(pool, amqp).relay_once() == 5

    consumer = InboxConsumer(
        Consumer("inbox-test", TICKET_SERVICE_PAYMENTS, {"payment.settled": record_effect}),
        pool,
        amqp,
    )
    await consumer.start()
    try:

        async def all_consumed() -> bool:
            rows = await pool.fetchval("SELECT count(*) FROM inbox")
            queue_empty = await _queue_depth(amqp, QUEUE) == 0
            return bool(rows == 5 and queue_empty)

        await wait_for(all_consumed)
        await asyncio.sleep(0.3)
    finally:
        await consumer.stop()
    effects = await pool.fetch("SELECT event_id::text AS id FROM effects")
    assert sorted(r["id"] for r in effects) == sorted(ids)  # each once, though delivered twice


async def test_two_relays_publish_every_event_exactly_once_between_them(
    pool: asyncpg.Pool, amqp: AbstractRobustConnection
) -> None:
    ids = await write_events(pool, 300)
    relays = [OutboxRelay(pool, amqp, batch_size=25) for _ in range(2)]

    async def run_until_empty(relay: OutboxRelay) -> int:
        total = 0
        while published := await relay.relay_once():
            total += published
        return total

    counts = await asyncio.gather(*(run_until_empty(r) for r in relays))
    messages = await drain(amqp, QUEUE, expect=300)
    seen = [m.message_id for m in messages]
    assert sorted(seen) == sorted(ids), "each event exactly once on the broker"
    assert sum(counts) == 300 and all(c > 0 for c in counts), f"both relays worked: {counts}"


async def test_unroutable_event_is_kept_with_its_error_not_dropped(
    pool: asyncpg.Pool, amqp: AbstractRobustConnection
) -> None:
    stray = EventEnvelope.model_validate(
        {
            "event_id": "0b8f7e2c-3a41-4d2b-9c6e-5f1a2b3c4d5e",
            "event_type": "nobody.listens",
            "version": 1,
            "occurred_at": "2026-12-01T00:00:00Z",
            "producer": "servicekit-tests",
            "payload": {},
        }
    )
    async with pool.acquire() as conn:
        await add_envelope(conn, stray)
    assert await OutboxRelay(pool, amqp).relay_once() == 0
    row = await pool.fetchrow("SELECT * FROM outbox WHERE event_id = $1", stray.event_id)
    assert row["sent_at"] is None
    assert row["attempts"] == 1
    assert "refused" in row["last_error"] and "nobody.listens" in row["last_error"]
    assert await pool.fetchval("SELECT next_attempt_at > now() FROM outbox") is True


async def test_broker_connections_closed_under_the_relay_lose_nothing(
    pool: asyncpg.Pool, amqp: AbstractRobustConnection, amqp_url: str
) -> None:
    relay = OutboxRelay(pool, amqp, poll_seconds=0.05)
    consumer = InboxConsumer(
        Consumer("inbox-test", TICKET_SERVICE_PAYMENTS, {"payment.settled": record_effect}),
        pool,
        amqp,
    )
    await consumer.start()
    relay_task = asyncio.create_task(relay.run())
    ids: list[str] = []
    try:
        for batch in range(20):
            ids += await write_events(pool, 10, start=batch * 10)
            if batch in (5, 12):
                await asyncio.to_thread(_close_all_connections, "servicekit_test")
            await asyncio.sleep(0.05)

        async def every_effect_applied() -> bool:
            return bool(await pool.fetchval("SELECT count(*) FROM effects") == len(ids))

        await wait_for(every_effect_applied, timeout=40)
    finally:
        relay_task.cancel()
        await asyncio.gather(relay_task, return_exceptions=True)
        await consumer.stop()
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0
    assert await pool.fetchval("SELECT count(DISTINCT event_id) FROM effects") == 200
    assert await pool.fetchval("SELECT count(*) FROM effects") == 200


def _close_all_connections(vhost: str) -> None:
    subprocess.run(
        ["rabbitmqctl", "-q", "close_all_connections", "--vhost", vhost, "test: broker restart"],
        check=True,
        capture_output=True,
    )


async def _queue_depth(amqp: AbstractRobustConnection, name: str) -> int:
    async with amqp.channel() as channel:
        queue = await channel.declare_queue(name, passive=True)
        return int(queue.declaration_result.message_count or 0)
