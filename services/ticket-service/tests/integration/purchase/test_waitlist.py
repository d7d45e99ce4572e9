"""The fair waiting list (issue 16) on two replicas: the line, the offers, their expiry, races."""

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from servicekit.messaging import Outbox
from servicekit.testing import metric_sum, scrape_metrics
from ticket_service import bootstrap
from ticket_service.service_layer.waitlist_offers import make_offers

# --- helpers ---------------------------------------------------------------------------------


async def sold_out_event(
    stack: Any, *, capacity: int, price: int = 50_000
) -> tuple[dict[str, Any], list[str]]:
    """An event whose every seat is held by a pending purchase; the held tickets' ids."""
    event = await stack.put_event(price=price, capacity=capacity)
    held = []
    for _ in range(capacity):
        response = await stack.buy(event)
        assert response.status_code == 201, response.text
        held.append(response.json()["data"]["id"])
    return event, held


def join_body(**extra: Any) -> dict[str, Any]:
    return {
        "ticket_type_id": "default",
        "quantity": 1,
        "customer_name": "Dewi Lestari",
        "customer_email": "dewi@example.id",
        **extra,
    }


async def join(
    stack: Any,
    event: dict[str, Any],
    user: str,
    *,
    client: httpx.AsyncClient | None = None,
    **extra: Any,
) -> httpx.Response:
    if client is not None:
        return await client.post(
            f"/events/{event['id']}/waitlist", json=join_body(**extra), headers=stack.auth(user)
        )
    async with stack.client() as own:
        return await own.post(
            f"/events/{event['id']}/waitlist", json=join_body(**extra), headers=stack.auth(user)
        )


async def place(stack: Any, event: dict[str, Any], user: str) -> httpx.Response:
    async with stack.client() as client:
        return await client.get(f"/events/{event['id']}/waitlist", headers=stack.auth(user))


async def open_offers(stack: Any, event_id: str) -> list[tuple[str, int]]:
    """(user, seats) of the event's open offers, in the order their entries joined."""
    found = await stack.pool.fetch(
        """SELECT o.user_id, o.seats FROM waitlist_offers o
             JOIN waitlist_entries w ON w.id = o.entry_id
            WHERE o.event_id = $1 AND o.status = 'open' ORDER BY w.joined_at, w.id""",
        event_id,
    )
    return [(r["user_id"], r["seats"]) for r in found]


async def entry_statuses(stack: Any, event_id: str) -> dict[str, str]:
    found = await stack.pool.fetch(
        "SELECT user_id, status FROM waitlist_entries WHERE event_id = $1", event_id
    )
    return {r["user_id"]: r["status"] for r in found}


async def end_holds(stack: Any, ticket_ids: list[str]) -> None:
    """Let the purchases' holds end now, all in one statement (the sweeper frees them)."""
    await stack.pool.execute(
        """UPDATE tickets SET hold_expires_at = now()
            WHERE id = ANY($1::uuid[]) AND status = 'pending'""",
        [uuid.UUID(t) for t in ticket_ids],
    )


async def end_offers(stack: Any, event_id: str) -> None:
    """Let the host's offer time pass for every open offer of the event."""
    await stack.pool.execute(
        "UPDATE waitlist_offers SET expires_at = now() WHERE event_id = $1 AND status = 'open'",
        event_id,
    )


def users(n: int) -> list[str]:
    run = uuid.uuid4().hex[:8]
    return [f"waiter-{run}-{i}" for i in range(n)]


# --- the tests ---------------------------------------------------------------------------------


async def test_the_list_is_for_a_sold_out_type_one_place_per_user(stack: Any) -> None:
    event = await stack.put_event(capacity=1)
    first, second = users(2)

    early = await join(stack, event, first)
    assert early.status_code == 409 and early.json()["error"]["code"] == "seats_available"

    assert (await stack.buy(event)).status_code == 201
    joined = await join(stack, event, first)
    assert joined.status_code == 201, joined.text
    assert joined.json()["data"] | {"joined_at": None} == {
        "event_id": event["id"],
        "ticket_type_id": "default",
        "status": "waiting",
        "position": 1,
        "quantity": 1,
        "joined_at": None,
        "offer": None,
    }
    again = await join(stack, event, first)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_waiting"
    assert (await join(stack, event, second)).json()["data"]["position"] == 2

    assert (await join(stack, event, "x", quantity=11)).status_code == 422
    assert (await join(stack, event, "x", quantity=0)).status_code == 422
    unknown = await join(stack, event, "x", ticket_type_id="vip")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "ticket_type_not_found"
    async with stack.client() as client:
        anonymous = await client.post(f"/events/{event['id']}/waitlist", json={"quantity": 1})
        assert anonymous.status_code == 401
        nowhere = await client.get(f"/events/{uuid.uuid4()}/waitlist", headers=stack.auth(first))
        assert nowhere.status_code == 404
        gone = await client.delete(f"/events/{event['id']}/waitlist", headers=stack.auth(first))
        assert gone.status_code == 204
        twice = await client.delete(f"/events/{event['id']}/waitlist", headers=stack.auth(first))
        assert twice.status_code == 404 and twice.json()["error"]["code"] == "not_waiting"
    assert (await place(stack, event, second)).json()["data"]["position"] == 1


async def test_offers_go_in_list_order_and_expire_to_the_next(stack: Any) -> None:
    event, held = await sold_out_event(stack, capacity=1)
    a, b, c = users(3)
    for user in (a, b, c):
        assert (await join(stack, event, user)).status_code == 201

    await end_holds(stack, held)

    async def offered() -> list[tuple[str, int]]:
        return await open_offers(stack, event["id"])

    assert await stack.eventually(offered) == [(a, 1)]
    mine = (await place(stack, event, a)).json()["data"]
    assert mine["status"] == "offered" and mine["position"] == 0
    assert mine["offer"]["seats"] == 1 and mine["offer"]["total"] == 50_000
    assert (await place(stack, event, b)).json()["data"]["position"] == 1
    # The seat is held for the offer: never free, never on general sale.
    assert await stack.seats(event["id"]) == {"capacity": 1, "sold": 0, "held": 1}

    await end_offers(stack, event["id"])

    async def passed_to_b() -> bool:
        return await open_offers(stack, event["id"]) == [(b, 1)]

    await stack.eventually(passed_to_b)
    assert (await entry_statuses(stack, event["id"]))[a] == "lapsed"
    assert await stack.seats(event["id"]) == {"capacity": 1, "sold": 0, "held": 1}


async def test_five_seats_coming_back_at_once_make_five_offers_to_the_first_five(
    stack: Any,
) -> None:
    event, held = await sold_out_event(stack, capacity=5)
    line = users(7)
    for user in line:
        assert (await join(stack, event, user)).status_code == 201

    await end_holds(stack, held)  # one sweep frees all five in one transaction

    async def five() -> bool:
        return len(await open_offers(stack, event["id"])) == 5

    await stack.eventually(five)
    assert await open_offers(stack, event["id"]) == [(u, 1) for u in line[:5]]
    statuses = await entry_statuses(stack, event["id"])
    assert [statuses[u] for u in line[5:]] == ["waiting", "waiting"]
    assert await stack.seats(event["id"]) == {"capacity": 5, "sold": 0, "held": 5}


async def test_a_seat_never_reaches_general_sale_while_someone_waits(stack: Any) -> None:
    event, held = await sold_out_event(stack, capacity=2)
    (pair,) = users(1)
    assert (await join(stack, event, pair, quantity=2)).status_code == 201

    await end_holds(stack, held[:1])  # one seat back: too few for the head, who keeps it

    async def one_free() -> bool:
        return (await stack.seats(event["id"]))["held"] == 1

    await stack.eventually(one_free)
    refused = await stack.buy(event)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "sold_out"
    await asyncio.sleep(0.5)  # several sweeps: nobody behind may jump the head
    assert await open_offers(stack, event["id"]) == []

    await end_holds(stack, held[1:])

    async def offered() -> list[tuple[str, int]]:
        return await open_offers(stack, event["id"])

    assert await stack.eventually(offered) == [(pair, 2)]
    assert await stack.seats(event["id"]) == {"capacity": 2, "sold": 0, "held": 2}

    async with stack.client() as client:
        left = await client.delete(f"/events/{event['id']}/waitlist", headers=stack.auth(pair))
    assert left.status_code == 204
    assert await stack.seats(event["id"]) == {"capacity": 2, "sold": 0, "held": 0}
    assert (await stack.buy(event)).status_code == 201  # nobody waits: on sale again


async def test_many_seats_back_with_several_offer_makers_offer_each_seat_once(stack: Any) -> None:
    event, held = await sold_out_event(stack, capacity=10)
    line = users(14)
    async with stack.client() as client:
        for user in line:  # in order: the line is the order of joining
            assert (await join(stack, event, user, client=client)).status_code == 201

    await end_holds(stack, held)
    # Two replicas' offer makers (woken by the NOTIFY) and four more in this process at once.
    store = bootstrap.offer_maker_store(stack.pool, Outbox("ticket-service"))
    now = datetime.now(UTC)
    await asyncio.gather(*(make_offers(store, now=now) for _ in range(4)))

    async def ten() -> bool:
        return len(await open_offers(stack, event["id"])) == 10

    await stack.eventually(ten)
    await asyncio.sleep(0.5)
    assert await open_offers(stack, event["id"]) == [(u, 1) for u in line[:10]]
    assert await stack.seats(event["id"]) == {"capacity": 10, "sold": 0, "held": 10}
    type_held = await stack.pool.fetchval(
        "SELECT held FROM ticket_types WHERE event_id = $1 AND id = 'default'", event["id"]
    )
    assert type_held == 10
    # Neither replica's offer maker ran into the other (a duplicate offer or an oversold
    # counter would fail its run on a constraint and be retried, hiding the race).
    for url in (stack.ticket_url, stack.replica_url):
        failed = metric_sum(
            await scrape_metrics(url),
            "background_job_runs_total",
            job_name="make-waitlist-offers",
            outcome="failed",
        )
        assert failed == 0
    outbox = await stack.pool.fetchval(
        """SELECT count(*) FROM outbox
            WHERE event_type = 'waitlist.offered' AND body->'payload'->>'event_id' = $1""",
        event["id"],
    )
    assert outbox == 10


async def test_a_host_sets_the_offer_time(stack: Any) -> None:
    event = await stack.put_event(capacity=1)
    host = f"host-{event['id']}"
    async with stack.client() as client:
        url = f"/events/{event['id']}/waitlist/settings"
        put = await client.put(url, json={"offer_minutes": 5}, headers=stack.auth(host, "host"))
        assert put.status_code == 200 and put.json()["data"]["offer_minutes"] == 5
        other = await client.put(url, json={"offer_minutes": 5}, headers=stack.auth("h2", "host"))
        assert other.status_code == 403
        user = await client.put(url, json={"offer_minutes": 5}, headers=stack.auth("u1"))
        assert user.status_code == 403
        bad = await client.put(url, json={"offer_minutes": 0}, headers=stack.auth(host, "host"))
        assert bad.status_code == 422
    minutes = await stack.pool.fetchval(
        "SELECT waitlist_offer_minutes FROM ticketed_events WHERE event_id = $1", event["id"]
    )
    assert minutes == 5


async def _offered(stack: Any, *, price: int = 150_000) -> tuple[dict[str, Any], str, str]:
    """A sold-out event whose one seat came back and is offered: (event, user, offer id)."""
    event, held = await sold_out_event(stack, capacity=1, price=price)
    (user,) = users(1)
    assert (await join(stack, event, user)).status_code == 201
    await end_holds(stack, held)

    async def offer_id() -> str | None:
        data = (await place(stack, event, user)).json()["data"]
        return data["offer"]["id"] if data["offer"] else None

    return event, user, await stack.eventually(offer_id)


async def _taken_seats(stack: Any, event_id: str) -> int:
    """What should be held: pending tickets plus open offers' seats."""
    value = await stack.pool.fetchval(
        """SELECT (SELECT count(*) FROM tickets WHERE event_id = $1 AND status = 'pending')
                + (SELECT COALESCE(sum(seats), 0) FROM waitlist_offers
                    WHERE event_id = $1 AND status = 'open')""",
        event_id,
    )
    return int(value)


async def test_accepting_an_offer_turns_its_held_seats_into_a_paid_order(stack: Any) -> None:
    event, user, offer_id = await _offered(stack)
    url = f"/waitlist/offers/{offer_id}/accept"
    async with stack.client() as client:
        stranger = await client.post(url, headers=stack.auth("someone-else"))
        assert stranger.status_code == 404
        assert stranger.json()["error"]["code"] == "offer_not_found"

        accepted = await client.post(url, headers=stack.auth(user))
        assert accepted.status_code == 201, accepted.text
        order = accepted.json()["data"]
        assert await stack.seats(event["id"]) == {"capacity": 1, "sold": 0, "held": 1}
        assert order["total"] == 150_000 and order["offer"]["status"] == "accepted"
        (ticket,) = order["tickets"]
        assert ticket["status"] == "pending" and ticket["holder_email"] == "dewi@example.id"
        assert order["payment"]["redirect_url"]

        again = await client.post(url, headers=stack.auth(user))
        assert again.status_code == 200
        assert again.json()["data"]["purchase_order_id"] == order["purchase_order_id"]
        assert again.json()["data"]["payment"]["order_id"] == order["payment"]["order_id"]

    async with httpx.AsyncClient(base_url=stack.sandbox_url, timeout=10) as sandbox:
        paid = await sandbox.post(
            f"/_sandbox/orders/{order['payment']['order_id']}/pay",
            json={"payment_type": "qris", "outcome": "settlement"},
        )
    assert paid.status_code == 200, paid.text

    async def active() -> bool:
        return bool(await stack.ticket_status(ticket["id"]) == "active")

    await stack.eventually(active, timeout=15)
    assert await stack.seats(event["id"]) == {"capacity": 1, "sold": 1, "held": 0}
    assert (await entry_statuses(stack, event["id"]))[user] == "accepted"


async def test_an_offer_past_its_time_cannot_be_accepted(stack: Any) -> None:
    event, user, offer_id = await _offered(stack)
    await end_offers(stack, event["id"])
    async with stack.client() as client:
        late = await client.post(f"/waitlist/offers/{offer_id}/accept", headers=stack.auth(user))
    assert late.status_code == 409 and late.json()["error"]["code"] == "offer_not_open"


async def test_accepting_races_the_expiry_and_exactly_one_wins(stack: Any) -> None:
    store = bootstrap.offer_maker_store(stack.pool, Outbox("ticket-service"))
    outcomes = set()
    for _ in range(3):
        event, user, offer_id = await _offered(stack)
        expires_at = await stack.pool.fetchval(
            "SELECT expires_at FROM waitlist_offers WHERE id = $1", uuid.UUID(offer_id)
        )
        async with stack.client() as client:
            accepted, _ = await asyncio.gather(
                client.post(f"/waitlist/offers/{offer_id}/accept", headers=stack.auth(user)),
                make_offers(store, now=expires_at),  # this clock says the offer's time is up
            )
        status = await stack.pool.fetchval(
            "SELECT status FROM waitlist_offers WHERE id = $1", uuid.UUID(offer_id)
        )
        outcomes.add(status)
        assert (accepted.status_code, status) in {(201, "accepted"), (409, "expired")}
        assert (await stack.seats(event["id"]))["held"] == await _taken_seats(stack, event["id"])
    assert outcomes <= {"accepted", "expired"}


async def test_an_offer_of_two_seats_becomes_one_order_paid_once(stack: Any) -> None:
    event, held = await sold_out_event(stack, capacity=2, price=80_000)
    (user,) = users(1)
    assert (await join(stack, event, user, quantity=2)).status_code == 201
    await end_holds(stack, held)

    async def offer_id() -> str | None:
        data = (await place(stack, event, user)).json()["data"]
        return data["offer"]["id"] if data["offer"] else None

    offer = await stack.eventually(offer_id)
    async with stack.client() as client:
        accepted = await client.post(f"/waitlist/offers/{offer}/accept", headers=stack.auth(user))
    assert accepted.status_code == 201, accepted.text
    order = accepted.json()["data"]
    assert order["total"] == 160_000 and len(order["tickets"]) == 2
    assert await stack.seats(event["id"]) == {"capacity": 2, "sold": 0, "held": 2}

    async with httpx.AsyncClient(base_url=stack.sandbox_url, timeout=10) as sandbox:
        paid = await sandbox.post(
            f"/_sandbox/orders/{order['payment']['order_id']}/pay",
            json={"payment_type": "qris", "outcome": "settlement"},
        )
    assert paid.status_code == 200, paid.text

    async def both_active() -> bool:
        statuses = [await stack.ticket_status(t["id"]) for t in order["tickets"]]
        return statuses == ["active", "active"]

    await stack.eventually(both_active, timeout=15)
    assert await stack.seats(event["id"]) == {"capacity": 2, "sold": 2, "held": 0}
    counters = await stack.pool.fetchrow(
        "SELECT sold, held FROM ticket_types WHERE event_id = $1 AND id = 'default'", event["id"]
    )
    assert dict(counters) == {"sold": 2, "held": 0}
