"""Waiting messages share one inbox transaction; a failing one is retried alone."""

import asyncio

import asyncpg
from aio_pika.abc import AbstractRobustConnection
from messaging_helpers import drain, settled, wait_for
from servicekit.messaging import Consumer, InboxConsumer
from test_inbox_consumer import publish, queue_depth
from ticketing_contracts import EventEnvelope, new_event
from ticketing_contracts.routing import TICKET_SERVICE_PAYMENTS

QUEUE = TICKET_SERVICE_PAYMENTS.queue
DLQ = TICKET_SERVICE_PAYMENTS.dead_letter_queue


async def record_with_transaction(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
    """The effect, noting which transaction made it."""
    await asyncio.sleep(0.01)  # a handler's own round trips: the next messages arrive meanwhile
    await conn.execute(
        "INSERT INTO effects (event_id, note) VALUES ($1, txid_current()::text)",
        envelope.event_id,
    )


def batching_consumer(
    handler: object, pool: asyncpg.Pool, amqp: AbstractRobustConnection, **options: float
) -> InboxConsumer:
    consumer = Consumer(
        "inbox-test",
        TICKET_SERVICE_PAYMENTS,
        {"payment.settled": handler},  # type: ignore[dict-item]
        batch_size=10,
    )
    return InboxConsumer(consumer, pool, amqp, prefetch=40, **options)  # type: ignore[arg-type]


async def consume_until_applied(consumer: InboxConsumer, pool: asyncpg.Pool, count: int) -> None:
    await consumer.start()
    try:

        async def applied() -> bool:
            return bool(await pool.fetchval("SELECT count(*) FROM inbox") == count)

        await wait_for(applied)
        await asyncio.sleep(0.3)  # time for a second, wrong application to show
    finally:
        await consumer.stop()


async def test_waiting_messages_share_transactions_and_each_event_applies_once(
    pool: asyncpg.Pool, amqp: AbstractRobustConnection
) -> None:
    envelopes = [new_event(settled(n), producer="tests") for n in range(40)]
    twice = envelopes[5]
    for envelope in [*envelopes, twice, twice]:
        await publish(amqp, envelope)

    await consume_until_applied(batching_consumer(record_with_transaction, pool, amqp), pool, 40)

    effects = await pool.fetch("SELECT event_id, note FROM effects")
    assert sorted(str(e["event_id"]) for e in effects) == sorted(str(e.event_id) for e in envelopes)
    transactions = {e["note"] for e in effects}
    assert len(transactions) <= 20, f"{len(transactions)} transactions for 40 events"
    assert await queue_depth(amqp, QUEUE) == 0


async def test_a_failing_message_is_retried_alone_and_its_batch_applies(
    pool: asyncpg.Pool, amqp: AbstractRobustConnection
) -> None:
    envelopes = [new_event(settled(n), producer="tests") for n in range(20)]
    failing = envelopes[7].event_id
    failures = 0

    async def fails_twice_for_one(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        nonlocal failures
        await record_with_transaction(conn, envelope)
        if envelope.event_id == failing and failures < 2:
            failures += 1
            raise RuntimeError("ticket 7 is locked by a migration")

    for envelope in envelopes:
        await publish(amqp, envelope)
    consumer = batching_consumer(fails_twice_for_one, pool, amqp, retry_base_seconds=0.01)
    await consume_until_applied(consumer, pool, 20)

    assert failures == 2
    effects = await pool.fetch("SELECT event_id FROM effects")
    # Each event once: the rolled-back batch and the failed tries left nothing behind.
    assert sorted(str(e["event_id"]) for e in effects) == sorted(str(e.event_id) for e in envelopes)
    assert await drain(amqp, DLQ, expect=0, timeout=1.0) == []
