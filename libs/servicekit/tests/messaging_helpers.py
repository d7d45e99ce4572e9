"""Shared bits of the messaging tests: events to send, a consumer that records effects."""

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from servicekit.messaging import Outbox
from ticketing_contracts import EventEnvelope, PaymentSettled

OUTBOX = Outbox(producer="servicekit-tests")


def settled(n: int) -> PaymentSettled:
    return PaymentSettled(
        order_id=f"ORDER-{n}",
        ticket_id=f"ticket-{n}",
        event_id="event-1",
        user_id="user-1",
        amount=150_000,
        customer_name="Siti",
        customer_email="siti@example.id",
        settled_at=datetime.now(UTC),
    )


async def write_events(pool: asyncpg.Pool, count: int, start: int = 0) -> list[str]:
    ids = []
    async with pool.acquire() as conn, conn.transaction():
        for n in range(start, start + count):
            envelope = await OUTBOX.add(conn, settled(n))
            ids.append(str(envelope.event_id))
    return ids


async def record_effect(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
    await conn.execute(
        "INSERT INTO effects (event_id, note) VALUES ($1, $2)", envelope.event_id, "applied"
    )


async def drain(
    amqp: AbstractRobustConnection, queue_name: str, *, expect: int, timeout: float = 15.0
) -> list[AbstractIncomingMessage]:
    """Take messages off a queue until `expect` arrived and the queue stays quiet briefly."""
    received: list[AbstractIncomingMessage] = []
    deadline = time.monotonic() + timeout
    async with amqp.channel() as channel:
        queue = await channel.get_queue(queue_name, ensure=False)
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            message = await queue.get(no_ack=True, fail=False)
            if message is not None:
                received.append(message)
                quiet_since = None
                continue
            if len(received) >= expect:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since > 0.5:
                    break
            await asyncio.sleep(0.05)
    return received


async def wait_for(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.05)
