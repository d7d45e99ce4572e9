"""A sold-out event's next buyers are refused from memory; a seat that comes back ends it at once.

Two ticket-service processes on one database: each remembers what it found, and the NOTIFY of
a seat coming back, from any process or path, reaches both. The test stack keeps a finding for
10 s, so any path that gave seats back without telling would fail the tests that buy them.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any


def sold_out(response: Any) -> bool:
    return bool(response.status_code == 409 and response.json()["error"]["code"] == "sold_out")


async def put(stack: Any, host: str, event_id: str, capacity: int) -> None:
    body = {
        "title": "Konser Senayan",
        "venue": "GBK, Jakarta",
        "starts_at": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
        "price": 50_000,
        "currency": "IDR",
        "capacity": capacity,
    }
    async with stack.client() as client:
        response = await client.put(
            f"/events/{event_id}", json=body, headers=stack.auth(host, "host")
        )
    assert response.status_code in (200, 201), response.text


async def add_seat_unannounced(stack: Any, event_id: str) -> None:
    """A seat added with the triggers off: no NOTIFY, so no process hears of it."""
    async with stack.pool.acquire() as conn:
        await conn.execute("SET session_replication_role = replica")
        await conn.execute(
            "UPDATE ticketed_events SET capacity = capacity + 1 WHERE event_id = $1", event_id
        )
        await conn.execute("RESET session_replication_role")


async def remembered_by(stack: Any, event: dict[str, Any], client: Any = None) -> None:
    """Until the process behind `client` refuses a keyless buyer from memory, a seat being free.

    Its LISTEN connection opens just after it starts: until then it remembers nothing.
    """

    async def refuses_a_free_seat() -> bool:
        if not sold_out(await stack.buy(event, client=client)):
            return False
        await add_seat_unannounced(stack, event["id"])
        return sold_out(await stack.buy(event, client=client))

    await stack.eventually(refuses_a_free_seat)


async def test_a_seat_nobody_announced_stays_unsold_for_keyless_buyers_only(stack: Any) -> None:
    event = await stack.put_event(capacity=1)
    assert (await stack.buy(event)).status_code == 201

    await remembered_by(stack, event)
    refused = await stack.buy(event)
    keyed = await stack.buy(event, headers={"Idempotency-Key": str(uuid.uuid4())})

    assert sold_out(refused) and refused.json()["error"]["details"]["available"] == 0
    assert keyed.status_code == 201, keyed.text  # a key goes to the hold, which finds the seat
    seats = await stack.seats(event["id"])
    assert seats["held"] == seats["capacity"] and seats["sold"] == 0


async def test_seats_that_come_back_are_on_sale_at_once_in_every_process(stack: Any) -> None:
    host, event_id = f"host-{uuid.uuid4()}", str(uuid.uuid4())
    await put(stack, host, event_id, capacity=1)
    event = {"id": event_id, "price": 50_000}
    first = (await stack.buy(event)).json()["data"]
    async with stack.client(stack.replica_url) as replica:
        await remembered_by(stack, event, replica)
        capacity = (await stack.seats(event_id))["capacity"]
        await put(stack, host, event_id, capacity=capacity + 1)  # through this process
        raised = await stack.buy(event, client=replica)  # bought through the other
        assert raised.status_code == 201, raised.text

        await remembered_by(stack, event)
        await remembered_by(stack, event, replica)
        await stack.end_hold(first["id"])  # whichever process sweeps it, both hear

        async def expired() -> bool:
            return bool(await stack.ticket_status(first["id"]) == "expired")

        await stack.eventually(expired)
        here, there = await stack.buy(event), await stack.buy(event, client=replica)
        assert (here.status_code, there.status_code) == (201, 201), (here.text, there.text)
        seats = await stack.seats(event_id)
        assert seats["held"] == seats["capacity"] and seats["sold"] == 0
