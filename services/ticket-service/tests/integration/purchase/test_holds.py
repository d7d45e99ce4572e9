"""Unpaid holds end: the sweeper expires them, frees the seats, tells payment-service."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from servicekit.db import open_pool
from servicekit.messaging import Outbox
from ticket_service.entrypoints.jobs import expire_unpaid_holds


async def test_an_ended_hold_expires_frees_the_seat_and_emits_ticket_expired(stack: Any) -> None:
    event = await stack.put_event(price=45_000, capacity=1)
    ticket = (await stack.buy(event)).json()["data"]
    assert (await stack.buy(event)).json()["error"]["code"] == "sold_out"

    await stack.end_hold(ticket["id"])

    async def expired() -> bool:
        return bool(await stack.ticket_status(ticket["id"]) == "expired")

    await stack.eventually(expired)
    row = await stack.ticket_row(ticket["id"])
    assert row["transaction_status"] == "cancelled" and row["expired_at"] is not None
    assert await stack.seats(event["id"]) == {"capacity": 1, "sold": 0, "held": 0}
    expired_event = await stack.outbox_payload(ticket["id"], "ticket.expired")
    assert expired_event["order_id"] == ticket["order_id"]
    assert (await stack.buy(event)).status_code == 201  # the seat is for sale again


async def test_a_hold_that_has_not_ended_is_left_alone(stack: Any) -> None:
    event = await stack.put_event(price=45_000, capacity=2)
    ticket = (await stack.buy(event)).json()["data"]

    await asyncio.sleep(0.6)  # three sweeps

    assert await stack.ticket_status(ticket["id"]) == "pending"
    hold_ends = datetime.fromisoformat(ticket["hold_expires_at"])
    assert timedelta(minutes=14) < hold_ends - datetime.now(UTC) <= timedelta(minutes=15)


async def test_sweepers_racing_expire_each_hold_exactly_once(stack: Any) -> None:
    event = await stack.put_event(price=0, capacity=60)
    # Pending holds as the purchase path leaves them, already due.
    async with stack.pool.acquire() as conn, conn.transaction():
        for number in range(60):
            ticket_id = uuid.uuid4()
            await conn.execute(
                """INSERT INTO tickets (id, user_id, event_id, attendance_code, price_paid,
                       status, holder_name, holder_email, hold_expires_at)
                   VALUES ($1, $2, $3, $4, 1000, 'pending', 'A', 'a@example.id',
                           now() + interval '1 hour')""",
                ticket_id,
                f"u-{ticket_id}",
                event["id"],
                _code(number),
            )
            await conn.execute(
                """INSERT INTO ticket_transactions (id, ticket_id, user_id, event_id, order_id,
                       amount) VALUES ($1, $2, $3, $4, $5, 1000)""",
                uuid.uuid4(),
                ticket_id,
                f"u-{ticket_id}",
                event["id"],
                f"TKT-{ticket_id}",
            )
        await conn.execute("UPDATE ticketed_events SET held = 60 WHERE event_id = $1", event["id"])
    # Two more sweepers in this process on top of the two service replicas.
    dsn = stack.processes["ticket"].env["DATABASE_URL"]
    pool = await open_pool(dsn, min_size=2, max_size=4)
    outbox = Outbox(producer="ticket-service")
    try:
        await stack.pool.execute(
            "UPDATE tickets SET hold_expires_at = now() WHERE event_id = $1", event["id"]
        )
        counts = await asyncio.gather(
            *(expire_unpaid_holds(pool, outbox, batch_size=7) for _ in range(8))
        )
    finally:
        await pool.close()

    async def all_expired() -> bool:
        left = await stack.pool.fetchval(
            "SELECT count(*) FROM tickets WHERE event_id = $1 AND status = 'pending'", event["id"]
        )
        return left == 0

    await stack.eventually(all_expired)
    assert sum(counts) <= 60
    assert await stack.seats(event["id"]) == {"capacity": 60, "sold": 0, "held": 0}
    expired_events = await stack.pool.fetchval(
        """SELECT count(*) FROM outbox WHERE event_type = 'ticket.expired'
              AND body->'payload'->>'event_id' = $1""",
        event["id"],
    )
    assert expired_events == 60


def _code(number: int) -> str:
    """A distinct attendance code per number."""
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    return "".join(alphabet[(number // len(alphabet) ** i) % len(alphabet)] for i in range(4))
