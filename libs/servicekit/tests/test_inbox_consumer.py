"""The inbox applies each event once; a failing handler ends in the dead-letter queue."""

import asyncio

import aio_pika
import asyncpg
from aio_pika.abc import AbstractRobustConnection
from messaging_helpers import drain, record_effect, settled, wait_for
from servicekit.messaging import Consumer, InboxConsumer
from ticketing_contracts import EXCHANGE, EventEnvelope, new_event
from ticketing_contracts.routing import TICKET_SERVICE_PAYMENTS

QUEUE = TICKET_SERVICE_PAYMENTS.queue
DLQ = TICKET_SERVICE_PAYMENTS.dead_letter_queue


async def publish_raw(amqp: AbstractRobustConnection, body: bytes, routing_key: str) -> None:
    async with amqp.channel() as channel:
        exchange = await channel.get_exchange(EXCHANGE)
        await exchange.publish(aio_pika.Message(body=body), routing_key=routing_key)


async def publish(amqp: AbstractRobustConnection, envelope: EventEnvelope) -> None:
    await publish_raw(amqp, envelope.model_dump_json().encode(), envelope.event_type)


async def queue_depth(amqp: AbstractRobustConnection, name: str) -> int:
    async with amqp.channel() as channel:
        queue = await channel.declare_queue(name, passive=True)
        return int(queue.declaration_result.message_count or 0)


def consumer_for(
    handler: object, pool: asyncpg.Pool, amqp: AbstractRobustConnection, **options: float
) -> InboxConsumer:
    return InboxConsumer(
        Consumer("inbox-test", TICKET_SERVICE_PAYMENTS, {"payment.settled": handler}),  # type: ignore[dict-item]
        pool,
        amqp,
        **options,  # type: ignore[arg-type]
    )


async def test_redelivered_event_has_no_second_effect(
    pool: asyncpg.Pool, amqp: AbstractRobustConnection
) -> None:
    envelope = new_event(settled(1), producer="tests")
    for _ in range(3):
        await publish(amqp, envelope)
    consumer = consumer_for(record_effect, pool, amqp)
    await consumer.start()
    try:

        async def drained() -> bool:
            return await queue_depth(amqp, QUEUE) == 0

        await wait_for(drained)
        await asyncio.sleep(0.2)
    finally:
        await consumer.stop()
    assert await pool.fetchval("SELECT count(*) FROM effects") == 1
    assert await pool.fetchval("SELECT count(*) FROM inbox") == 1


async def test_concurrent_duplicates_race_and_only_one_applies(
    pool: asyncpg.Pool, amqp: AbstractRobustConnection
) -> None:
    async def slow_effect(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        await asyncio.sleep(0.1)
        await record_effect(conn, envelope)

    envelope = new_event(settled(2), producer="tests")
    await asyncio.gather(*(publish(amqp, envelope) for _ in range(8)))
    consumer = consumer_for(slow_effect, pool, amqp)
    await consumer.start()
    try:

        async def drained() -> bool:
            return await queue_depth(amqp, QUEUE) == 0

        await wait_for(drained)
        await asyncio.sleep(0.3)
    finally:
        await consumer.stop()
    assert await pool.fetchval("SELECT count(*) FROM effects") == 1


async def test_failed_handler_leaves_no_effect_and_is_retried_until_it_succeeds(
    pool: asyncpg.Pool, amqp: AbstractRobustConnection
) -> None:
    calls = 0

    async def flaky(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        nonlocal calls
        calls += 1
        await record_effect(conn, envelope)
        if calls < 3:
            raise RuntimeError("database hiccup")

    await publish(amqp, new_event(settled(3), producer="tests"))
    consumer = consumer_for(flaky, pool, amqp, retry_base_seconds=0.01)
    await consumer.start()
    try:

        async def applied() -> bool:
            return bool(await pool.fetchval("SELECT count(*) FROM inbox") == 1)

        await wait_for(applied)
    finally:
        await consumer.stop()
    assert calls == 3
    assert await pool.fetchval("SELECT count(*) FROM effects") == 1  # the failed tries rolled back
    assert await queue_depth(amqp, DLQ) == 0


async def test_handler_that_keeps_failing_ends_in_the_dead_letter_queue_with_its_error(
    pool: asyncpg.Pool, amqp: AbstractRobustConnection
) -> None:
    calls = 0

    async def broken(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        nonlocal calls
        calls += 1
        raise ValueError("ticket 42 is in an impossible state")

    envelope = new_event(settled(4), producer="tests")
    await publish(amqp, envelope)
    consumer = consumer_for(broken, pool, amqp, retry_base_seconds=0.01, max_attempts=4)
    await consumer.start()
    try:
        [dead] = await drain(amqp, DLQ, expect=1)
    finally:
        await consumer.stop()
    assert calls == 4
    headers = dead.headers or {}
    assert "ValueError: ticket 42 is in an impossible state" in str(headers["x-error"])
    assert headers["x-failed-consumer"] == "inbox-test"
    assert EventEnvelope.model_validate_json(dead.body).event_id == envelope.event_id
    assert await queue_depth(amqp, QUEUE) == 0
    assert await pool.fetchval("SELECT count(*) FROM inbox") == 0


async def test_unreadable_message_goes_to_the_dead_letter_queue_at_once(
    pool: asyncpg.Pool, amqp: AbstractRobustConnection
) -> None:
    await publish_raw(amqp, b"{not json", "payment.settled")
    consumer = consumer_for(record_effect, pool, amqp)
    await consumer.start()
    try:
        [dead] = await drain(amqp, DLQ, expect=1)
    finally:
        await consumer.stop()
    assert str((dead.headers or {})["x-error"]).startswith("unreadable envelope")
    assert await pool.fetchval("SELECT count(*) FROM effects") == 0


async def test_broker_delivery_limit_backstops_a_consumer_that_never_acks(
    amqp: AbstractRobustConnection,
) -> None:
    """Quorum queue x-delivery-limit: a message requeued past the limit is dead-lettered."""
    from servicekit.messaging.topology import DELIVERY_LIMIT

    await publish_raw(amqp, b'{"poison": true}', "payment.settled")
    async with amqp.channel() as channel:
        queue = await channel.get_queue(QUEUE)
        for _ in range(DELIVERY_LIMIT + 1):
            message = await queue.get(fail=False, timeout=5)
            if message is None:
                break
            await message.nack(requeue=True)
    [dead] = await drain(amqp, DLQ, expect=1)
    assert dead.body == b'{"poison": true}'
