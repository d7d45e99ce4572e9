"""`python -m servicekit.dlq` on the real broker: list, show, replay through the inbox, drop."""

import asyncio
import json
import os
import subprocess
import sys

import aio_pika
import asyncpg
from aio_pika.abc import AbstractRobustConnection
from messaging_helpers import record_effect, settled, wait_for, write_events
from servicekit.messaging import Consumer, InboxConsumer, OutboxRelay
from ticketing_contracts import DEAD_LETTER_EXCHANGE, EventEnvelope, new_event
from ticketing_contracts.routing import TICKET_SERVICE_PAYMENTS

QUEUE = TICKET_SERVICE_PAYMENTS.queue
DLQ = TICKET_SERVICE_PAYMENTS.dead_letter_queue


async def handler_that_breaks(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
    raise RuntimeError("the handler broke on this event")


def _consumer(pool: asyncpg.Pool, amqp: AbstractRobustConnection, *, broken: bool) -> InboxConsumer:
    handler = handler_that_breaks if broken else record_effect
    return InboxConsumer(
        Consumer("inbox-test", TICKET_SERVICE_PAYMENTS, {"payment.settled": handler}),
        pool,
        amqp,
        max_attempts=1,
    )


async def _depth(amqp: AbstractRobustConnection, name: str) -> int:
    async with amqp.channel() as channel:
        queue = await channel.declare_queue(name, passive=True)
        return int(queue.declaration_result.message_count or 0)


async def _dlq(amqp_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "servicekit.dlq", *args],
        env={**os.environ, "AMQP_URL": amqp_url},
        capture_output=True,
        text=True,
        timeout=60,
    )


async def _dead_letters_from_a_broken_consumer(
    pool: asyncpg.Pool, amqp: AbstractRobustConnection, count: int
) -> list[str]:
    """Events published by the relay that a failing consumer dead-letters (the real path)."""
    ids = await write_events(pool, count)
    consumer = _consumer(pool, amqp, broken=True)
    await consumer.start()
    try:
        await OutboxRelay(pool, amqp).relay_once()

        async def all_dead() -> bool:
            return await _depth(amqp, DLQ) == count

        await wait_for(all_dead)
    finally:
        await consumer.stop()
    return ids


async def _put_in_dlq(amqp: AbstractRobustConnection, routing_key: str, body: bytes) -> None:
    """A dead letter as the consumer writes one (used for the cases the real path cannot make)."""
    envelope = json.loads(body)
    async with amqp.channel(publisher_confirms=True) as channel:
        exchange = await channel.get_exchange(DEAD_LETTER_EXCHANGE, ensure=False)
        await exchange.publish(
            aio_pika.Message(
                body=body,
                message_id=envelope["event_id"],
                type=envelope["event_type"],
                content_type="application/json",
                headers={
                    "x-error": "RuntimeError: an earlier failure",
                    "x-failed-consumer": "inbox-test",
                    "x-original-routing-key": routing_key,
                },
            ),
            routing_key=QUEUE,
        )


async def _settle_consumer_queue(amqp: AbstractRobustConnection) -> None:
    async def drained() -> bool:
        return await _depth(amqp, QUEUE) == 0

    await wait_for(drained)
    await asyncio.sleep(0.5)  # the last message's handling (a transaction) finishes


async def test_list_counts_and_show_prints_each_error_leaving_the_messages(
    pool: asyncpg.Pool, amqp: AbstractRobustConnection, amqp_url: str
) -> None:
    ids = await _dead_letters_from_a_broken_consumer(pool, amqp, 2)

    listed = await _dlq(amqp_url, "list")
    assert listed.returncode == 0, listed.stderr
    counts = dict(reversed(line.split()) for line in listed.stdout.splitlines())
    assert counts[DLQ] == "2"
    assert counts["payment-service.ticket-events.dlq"] == "0"

    shown = await _dlq(amqp_url, "show", QUEUE)
    assert shown.returncode == 0, shown.stderr
    for event_id in ids:
        assert f"event {event_id}  payment.settled" in shown.stdout
    assert shown.stdout.count("x-error: RuntimeError: the handler broke on this event") == 2
    assert "failed in inbox-test" in shown.stdout
    assert f"2 dead letter(s) in {DLQ}" in shown.stdout

    as_json = await _dlq(amqp_url, "show", DLQ, "--json", "--event-id", ids[1])
    [letter] = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert letter["event_id"] == ids[1] and letter["routing_key"] == "payment.settled"
    assert letter["body"]["payload"]["order_id"] == "ORDER-1"
    assert await _depth(amqp, DLQ) == 2, "show takes nothing"


async def test_replay_goes_through_the_inbox_so_a_replayed_duplicate_has_no_second_effect(
    pool: asyncpg.Pool, amqp: AbstractRobustConnection, amqp_url: str
) -> None:
    [event_id] = await _dead_letters_from_a_broken_consumer(pool, amqp, 1)
    body = await pool.fetchval("SELECT body FROM outbox WHERE event_id = $1", event_id)
    consumer = _consumer(pool, amqp, broken=False)  # the bug is fixed and deployed
    await consumer.start()
    try:
        replayed = await _dlq(amqp_url, "replay", QUEUE)
        assert replayed.returncode == 0, replayed.stdout + replayed.stderr
        assert f"replayed 1: {event_id}" in replayed.stdout

        async def applied() -> bool:
            return bool(await pool.fetchval("SELECT count(*) FROM effects") == 1)

        await wait_for(applied)
        assert await _depth(amqp, DLQ) == 0

        # The same event dead-lettered once more (say, a second copy a consumer gave up on).
        await _put_in_dlq(amqp, "payment.settled", json.dumps(body).encode())
        again = await _dlq(amqp_url, "replay", QUEUE)
        assert again.returncode == 0 and f"replayed 1: {event_id}" in again.stdout
        await _settle_consumer_queue(amqp)
    finally:
        await consumer.stop()
    assert await _depth(amqp, DLQ) == 0
    effects = await pool.fetch("SELECT event_id::text AS id FROM effects")
    assert [row["id"] for row in effects] == [event_id], "one effect, though delivered twice"


async def test_a_replay_the_broker_cannot_confirm_leaves_the_dead_letter_where_it_was(
    amqp: AbstractRobustConnection, amqp_url: str
) -> None:
    stray = new_event(settled(7), producer="servicekit-tests").model_dump_json().encode()
    await _put_in_dlq(amqp, "nobody.listens", stray)

    replayed = await _dlq(amqp_url, "replay", QUEUE)
    assert replayed.returncode == 1
    assert "replayed 0" in replayed.stdout
    assert "kept (not confirmed by the broker)" in replayed.stdout
    assert await _depth(amqp, DLQ) == 1


async def test_drop_says_what_it_would_drop_without_yes_and_drops_only_the_chosen_with_it(
    amqp: AbstractRobustConnection, amqp_url: str
) -> None:
    envelopes = [new_event(settled(n), producer="servicekit-tests") for n in range(2)]
    for envelope in envelopes:
        await _put_in_dlq(amqp, "payment.settled", envelope.model_dump_json().encode())
    first, second = (str(e.event_id) for e in envelopes)

    refused = await _dlq(amqp_url, "drop", QUEUE)
    assert refused.returncode == 2
    assert "would drop 2 dead letter(s)" in refused.stdout and "--yes" in refused.stdout
    assert await _depth(amqp, DLQ) == 2

    dropped = await _dlq(amqp_url, "drop", QUEUE, "--event-id", first, "--yes")
    assert dropped.returncode == 0 and f"dropped 1: {first}" in dropped.stdout
    left = await _dlq(amqp_url, "show", QUEUE, "--json")
    assert [json.loads(line)["event_id"] for line in left.stdout.splitlines()] == [second]


async def test_an_unknown_queue_is_refused_with_the_known_ones(amqp_url: str) -> None:
    result = await _dlq(amqp_url, "show", "no-such-queue")
    assert result.returncode == 2
    assert "unknown queue 'no-such-queue'" in result.stderr
    assert QUEUE in result.stderr


async def test_a_message_the_broker_dead_lettered_is_shown_and_replayed_by_its_x_death(
    pool: asyncpg.Pool, amqp: AbstractRobustConnection, amqp_url: str
) -> None:
    """Past the queue's delivery limit the broker dead-letters it itself (no x-error)."""
    from servicekit.messaging.topology import DELIVERY_LIMIT

    [event_id] = await write_events(pool, 1)
    await OutboxRelay(pool, amqp).relay_once()
    async with amqp.channel() as channel:
        queue = await channel.get_queue(QUEUE)
        for _ in range(DELIVERY_LIMIT + 1):
            message = await queue.get(fail=False, timeout=5)
            if message is None:
                break
            await message.nack(requeue=True)

    async def dead() -> bool:
        return await _depth(amqp, DLQ) == 1

    await wait_for(dead)
    shown = await _dlq(amqp_url, "show", QUEUE, "--json")
    [letter] = [json.loads(line) for line in shown.stdout.splitlines()]
    assert letter["event_id"] == event_id
    assert letter["routing_key"] == "payment.settled"
    assert letter["error"] == "delivery_limit"

    consumer = _consumer(pool, amqp, broken=False)
    await consumer.start()
    try:
        replayed = await _dlq(amqp_url, "replay", QUEUE)
        assert replayed.returncode == 0 and f"replayed 1: {event_id}" in replayed.stdout

        async def applied() -> bool:
            return bool(await pool.fetchval("SELECT count(*) FROM effects") == 1)

        await wait_for(applied)
    finally:
        await consumer.stop()
