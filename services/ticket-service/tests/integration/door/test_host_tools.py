"""The host's tools on the real PostgreSQL: the ticket list and counts, lookup, comps, fixes."""

import asyncio
import uuid
from typing import Any


async def test_host_lists_the_event_tickets_with_filters_pages_and_counts(door: Any) -> None:
    event = await door.event(capacity=10)
    active = [await door.ticket(event) for _ in range(3)]
    await door.ticket(event, status="pending")
    await door.ticket(event, status="cancelled")
    host = door.auth(event["host_id"], "host")
    url = f"/events/{event['event_id']}/tickets"
    async with door.client() as client:
        await client.post(
            "/tickets/check-in", json={"qr_payload": door.qr(active[0])}, headers=host
        )
        everything = await client.get(url, headers=host)
        first_page = await client.get(url, params={"limit": 2}, headers=host)
        cursor = first_page.json()["next_cursor"]
        rest = await client.get(url, params={"limit": 2, "cursor": cursor}, headers=host)
        inside = await client.get(url, params={"checked_in": "true"}, headers=host)
        waiting = await client.get(
            url, params={"status": "active", "checked_in": "false"}, headers=host
        )
        bad_cursor = await client.get(url, params={"cursor": "nonsense"}, headers=host)
    assert everything.status_code == 200, everything.text
    body = everything.json()
    assert len(body["data"]) == 5
    assert body["next_cursor"] is None
    assert body["counts"] == {
        "capacity": 10,
        "sold": 3,
        "held": 1,
        "checked_in": 1,
        "remaining": 6,
    }
    paged = [t["id"] for t in first_page.json()["data"] + rest.json()["data"]]
    assert paged == [t["id"] for t in body["data"]][:4]
    assert [t["id"] for t in inside.json()["data"]] == [active[0]["id"]]
    assert sorted(t["id"] for t in waiting.json()["data"]) == sorted(t["id"] for t in active[1:])
    # The published pattern refuses a cursor we never gave out, like any other bad parameter.
    assert bad_cursor.status_code == 422
    assert bad_cursor.json()["error"]["code"] == "validation_error"


async def test_only_the_host_or_an_admin_lists_an_event_tickets(door: Any) -> None:
    event = await door.event()
    url = f"/events/{event['event_id']}/tickets"
    async with door.client() as client:
        other_host = await client.get(url, headers=door.auth(f"host-{uuid.uuid4()}", "host"))
        user = await client.get(url, headers=door.auth(f"user-{uuid.uuid4()}"))
        admin = await client.get(url, headers=door.auth(f"admin-{uuid.uuid4()}", "admin"))
        missing = await client.get(
            f"/events/{uuid.uuid4()}/tickets", headers=door.auth("a", "admin")
        )
    assert other_host.status_code == 403
    assert user.status_code == 403
    assert admin.status_code == 200
    assert missing.status_code == 404


async def test_host_finds_a_ticket_by_code_only_at_their_own_events(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    url = f"/tickets/by-code/{ticket['code'].lower()}"
    async with door.client() as client:
        host = await client.get(url, headers=door.auth(event["host_id"], "host"))
        scoped = await client.get(
            url, params={"event_id": event["event_id"]}, headers=door.auth(event["host_id"], "host")
        )
        other_host = await client.get(url, headers=door.auth(f"host-{uuid.uuid4()}", "host"))
        admin = await client.get(
            url,
            params={"event_id": event["event_id"]},
            headers=door.auth(f"admin-{uuid.uuid4()}", "admin"),
        )
    assert host.status_code == 200
    assert host.json()["data"]["id"] == ticket["id"]
    assert scoped.json()["data"]["id"] == ticket["id"]
    assert other_host.status_code == 404
    assert admin.status_code == 200


async def test_host_issues_a_complimentary_ticket_counted_against_capacity(door: Any) -> None:
    event = await door.event(capacity=2)
    await door.ticket(event)
    host = door.auth(event["host_id"], "host")
    guest = {
        "event_id": event["event_id"],
        "user_id": f"guest-{uuid.uuid4()}",
        "holder_name": "Budi Santoso",
        "holder_email": "budi@example.id",
    }
    async with door.client() as client:
        issued = await client.post("/tickets", json=guest, headers=host)
        sold_out = await client.post("/tickets", json=guest, headers=host)
        by_user = await client.post(
            "/tickets", json=guest, headers=door.auth(guest["user_id"], "user")
        )
    assert issued.status_code == 201, issued.text
    ticket = issued.json()["data"]
    assert ticket["status"] == "active"
    assert ticket["price_paid"] == 0
    assert ticket["user_id"] == guest["user_id"]
    assert sold_out.status_code == 409
    assert sold_out.json()["error"]["code"] == "sold_out"
    assert by_user.status_code == 403
    assert await door.seats(event["event_id"]) == (2, 0)
    events = await door.events_of(ticket["id"])
    assert [kind for kind, _ in events] == ["ticket.activated"]
    claims = await door.verify_offline(events[0][1]["qr_payload"], event["event_id"])
    assert (claims.ticket_id, claims.attendance_code) == (ticket["id"], ticket["attendance_code"])


async def test_comps_racing_for_the_last_seat_issue_exactly_one(door: Any) -> None:
    event = await door.event(capacity=3)
    await door.ticket(event)
    await door.ticket(event, status="pending")
    host = door.auth(event["host_id"], "host")
    guest = {
        "event_id": event["event_id"],
        "user_id": "guest",
        "holder_name": "Dewi",
        "holder_email": "dewi@example.id",
    }
    clients = [door.client() for _ in range(8)]
    try:
        responses = await asyncio.gather(
            *(c.post("/tickets", json=guest, headers=host) for c in clients)
        )
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    assert sorted(r.status_code for r in responses) == [201] + [409] * 7
    assert await door.seats(event["event_id"]) == (2, 1)


async def test_seat_freed_by_a_cancellation_can_be_issued_again(door: Any) -> None:
    event = await door.event(capacity=1)
    ticket = await door.ticket(event)
    host = door.auth(event["host_id"], "host")
    guest = {
        "event_id": event["event_id"],
        "user_id": "guest",
        "holder_name": "Rina",
        "holder_email": "rina@example.id",
    }
    async with door.client() as client:
        full = await client.post("/tickets", json=guest, headers=host)
        await client.post(f"/tickets/{ticket['id']}/cancel", headers=host)
        again = await client.post("/tickets", json=guest, headers=host)
    assert full.status_code == 409
    assert again.status_code == 201


async def test_host_corrects_holder_details_and_nothing_else(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    url = f"/tickets/{ticket['id']}"
    host = door.auth(event["host_id"], "host")
    async with door.client() as client:
        fixed = await client.put(
            url,
            json={"holder_name": "Siti Rahmawati", "holder_email": "siti.r@example.id"},
            headers=host,
        )
        status_change = await client.put(url, json={"status": "active"}, headers=host)
        bad_email = await client.put(url, json={"holder_email": "not-an-email"}, headers=host)
        other_host = await client.put(
            url, json={"holder_name": "X"}, headers=door.auth(f"host-{uuid.uuid4()}", "host")
        )
        holder = await client.put(
            url, json={"holder_name": "X"}, headers=door.auth(ticket["user_id"])
        )
    assert fixed.status_code == 200, fixed.text
    data = fixed.json()["data"]
    assert (data["holder_name"], data["holder_email"]) == ("Siti Rahmawati", "siti.r@example.id")
    assert data["holder_phone"] is None
    assert status_change.status_code == 422
    assert bad_email.status_code == 422
    assert other_host.status_code == 404
    assert holder.status_code == 403
