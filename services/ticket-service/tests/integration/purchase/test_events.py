"""PUT/GET /events/{id}: hosts own their events, capacity never drops below what is taken."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any


def body(**changes: Any) -> dict[str, Any]:
    return {
        "title": "Festival Kopi Nusantara",
        "venue": "JIExpo, Jakarta",
        "starts_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "price": 100_000,
        "currency": "IDR",
        "capacity": 3,
        **changes,
    }


async def test_a_host_creates_then_updates_their_event(stack: Any) -> None:
    event_id = str(uuid.uuid4())
    async with stack.client() as client:
        created = await client.put(
            f"/events/{event_id}", json=body(), headers=stack.auth("host-a", "host")
        )
        updated = await client.put(
            f"/events/{event_id}",
            json=body(price=120_000, max_per_user=2),
            headers=stack.auth("host-a", "host"),
        )
        read = await client.get(f"/events/{event_id}", headers=stack.auth("fan"))

    assert created.status_code == 201
    assert updated.status_code == 200
    data = read.json()["data"]
    assert data["host_id"] == "host-a"
    assert data["price"] == 120_000 and data["max_per_user"] == 2
    assert (data["capacity"], data["sold"], data["held"], data["available"]) == (3, 0, 0, 3)
    assert data["on_sale"] is True


async def test_another_host_cannot_change_the_event_but_an_admin_can(stack: Any) -> None:
    event_id = str(uuid.uuid4())
    async with stack.client() as client:
        await client.put(f"/events/{event_id}", json=body(), headers=stack.auth("host-a", "host"))
        other = await client.put(
            f"/events/{event_id}", json=body(title="Mine now"), headers=stack.auth("host-b", "host")
        )
        admin = await client.put(
            f"/events/{event_id}", json=body(title="Fixed"), headers=stack.auth("root", "admin")
        )
        user = await client.put(
            f"/events/{uuid.uuid4()}", json=body(), headers=stack.auth("fan", "user")
        )

    assert (other.status_code, other.json()["error"]["code"]) == (403, "not_event_host")
    assert admin.status_code == 200 and admin.json()["data"]["host_id"] == "host-a"
    assert admin.json()["data"]["title"] == "Fixed"
    assert user.status_code == 403


async def test_availability_counts_sold_and_held_seats(stack: Any) -> None:
    event = await stack.put_event(price=10_000, capacity=3)
    await stack.buy(event)  # pending: held
    free = await stack.put_event(price=0, capacity=3)
    await stack.buy(free)  # active at once: sold

    async with stack.client() as client:
        paid_view = (await client.get(f"/events/{event['id']}", headers=stack.auth("x"))).json()
        free_view = (await client.get(f"/events/{free['id']}", headers=stack.auth("x"))).json()

    assert (paid_view["data"]["held"], paid_view["data"]["available"]) == (1, 2)
    assert (free_view["data"]["sold"], free_view["data"]["available"]) == (1, 2)


async def test_capacity_cannot_go_below_what_is_sold_or_held(stack: Any) -> None:
    host = f"host-{uuid.uuid4()}"
    event = await stack.put_event(host=host, price=0, capacity=3)
    await stack.buy(event)
    await stack.buy(event)

    async with stack.client() as client:
        too_low = await client.put(
            f"/events/{event['id']}",
            json=body(price=0, capacity=1),
            headers=stack.auth(host, "host"),
        )
        exact = await client.put(
            f"/events/{event['id']}",
            json=body(price=0, capacity=2),
            headers=stack.auth(host, "host"),
        )

    assert (too_low.status_code, too_low.json()["error"]["code"]) == (409, "capacity_below_taken")
    assert exact.status_code == 200 and exact.json()["data"]["available"] == 0
    assert (await stack.buy(event)).json()["error"]["code"] == "sold_out"


async def test_invalid_events_are_refused(stack: Any) -> None:
    async with stack.client() as client:
        host = stack.auth("host-a", "host")
        fraction = await client.put(f"/events/{uuid.uuid4()}", json=body(price=10.5), headers=host)
        naive = await client.put(
            f"/events/{uuid.uuid4()}", json=body(starts_at="2027-01-01T19:00:00"), headers=host
        )
        usd = await client.put(f"/events/{uuid.uuid4()}", json=body(currency="USD"), headers=host)
        window = await client.put(
            f"/events/{uuid.uuid4()}",
            json=body(sales_start="2027-01-02T00:00:00Z", sales_end="2027-01-01T00:00:00Z"),
            headers=host,
        )
        not_uuid = await client.put("/events/not-a-uuid", json=body(), headers=host)

    assert fraction.status_code == naive.status_code == usd.status_code == 422
    assert (window.status_code, window.json()["error"]["code"]) == (422, "invalid_event")
    assert not_uuid.status_code == 404


async def test_get_event_answers_304_while_availability_is_unchanged(stack: Any) -> None:
    event = await stack.put_event(price=0, capacity=5)
    async with stack.client() as client:
        first = await client.get(f"/events/{event['id']}", headers=stack.auth("x"))
        again = await client.get(
            f"/events/{event['id']}",
            headers={**stack.auth("x"), "If-None-Match": first.headers["etag"]},
        )
        await stack.buy(event)
        after_sale = await client.get(
            f"/events/{event['id']}",
            headers={**stack.auth("x"), "If-None-Match": first.headers["etag"]},
        )

    assert again.status_code == 304
    assert after_sale.status_code == 200 and after_sale.json()["data"]["available"] == 4


async def test_a_capacity_cut_racing_purchases_never_leaves_more_sold_than_capacity(
    stack: Any,
) -> None:
    host = f"host-{uuid.uuid4()}"
    event = await stack.put_event(host=host, price=0, capacity=40)

    async with stack.client() as client:
        cut = client.put(
            f"/events/{event['id']}",
            json=body(price=0, capacity=10),
            headers=stack.auth(host, "host"),
        )
        results = await asyncio.gather(cut, *(stack.buy(event, client=client) for _ in range(40)))

    cut_response, purchases = results[0], results[1:]
    sold = sum(1 for r in purchases if r.status_code == 201)
    seats = await stack.seats(event["id"])
    assert seats["sold"] == sold and seats["held"] == 0
    assert seats["sold"] <= seats["capacity"]
    if cut_response.status_code == 200:
        assert seats["capacity"] == 10 and sold <= 10
    else:
        assert cut_response.json()["error"]["code"] == "capacity_below_taken"
        assert seats["capacity"] == 40
