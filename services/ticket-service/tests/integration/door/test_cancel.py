"""Cancellation on the real PostgreSQL: who may cancel, the seat freed, the refund requested."""

import asyncio
import uuid
from datetime import timedelta
from typing import Any


def cancel_url(ticket: dict[str, Any]) -> str:
    return f"/tickets/{ticket['id']}/cancel"


async def test_holder_cancels_a_paid_ticket_the_seat_is_freed_and_a_refund_requested(
    door: Any,
) -> None:
    event = await door.event(price=150_000)
    ticket = await door.ticket(event)
    assert await door.seats(event["event_id"]) == (1, 0)
    async with door.client() as client:
        response = await client.post(
            cancel_url(ticket),
            json={"reason": "tidak bisa datang"},
            headers=door.auth(ticket["user_id"]),
        )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["status"] == "cancelled"
    assert data["cancel_reason"] == "tidak bisa datang"
    assert data["refund_requested"] == 150_000
    assert await door.seats(event["event_id"]) == (0, 0)
    events = await door.events_of(ticket["id"])
    assert [kind for kind, _ in events] == ["ticket.cancelled", "ticket.refund_requested"]
    assert events[0][1]["cancelled_by"] == ticket["user_id"]
    assert events[1][1]["amount"] == 150_000
    assert events[1][1]["order_id"] == f"TKT-{ticket['id']}"


async def test_holder_cancels_a_pending_hold_and_the_hold_is_released(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event, status="pending")
    assert await door.seats(event["event_id"]) == (0, 1)
    async with door.client() as client:
        response = await client.post(cancel_url(ticket), headers=door.auth(ticket["user_id"]))
    assert response.status_code == 200, response.text
    assert response.json()["data"]["refund_requested"] == 0
    assert await door.seats(event["event_id"]) == (0, 0)
    status = await door.pool.fetchval(
        "SELECT status FROM ticket_transactions WHERE ticket_id = $1", uuid.UUID(ticket["id"])
    )
    assert status == "cancelled"
    assert [kind for kind, _ in await door.events_of(ticket["id"])] == ["ticket.cancelled"]


async def test_free_ticket_cancelled_requests_no_refund(door: Any) -> None:
    event = await door.event(price=0)
    ticket = await door.ticket(event)
    async with door.client() as client:
        response = await client.post(cancel_url(ticket), headers=door.auth(ticket["user_id"]))
    assert response.status_code == 200
    assert [kind for kind, _ in await door.events_of(ticket["id"])] == ["ticket.cancelled"]


async def test_holder_cannot_cancel_once_the_event_started_but_the_host_can(door: Any) -> None:
    event = await door.event(starts_in=-timedelta(minutes=30))
    ticket = await door.ticket(event)
    async with door.client() as client:
        holder = await client.post(cancel_url(ticket), headers=door.auth(ticket["user_id"]))
        host = await client.post(
            cancel_url(ticket),
            json={"reason": "duplicate booking"},
            headers=door.auth(event["host_id"], "host"),
        )
    assert holder.status_code == 409
    assert holder.json()["error"]["code"] == "event_started"
    assert host.status_code == 200
    assert host.json()["data"]["cancel_reason"] == "duplicate booking"
    # The host cancelled a paid ticket: its money goes back too.
    assert [kind for kind, _ in await door.events_of(ticket["id"])] == [
        "ticket.cancelled",
        "ticket.refund_requested",
    ]


async def test_admin_cancels_any_ticket(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    async with door.client() as client:
        response = await client.post(
            cancel_url(ticket), headers=door.auth(f"admin-{uuid.uuid4()}", "admin")
        )
    assert response.status_code == 200


async def test_someone_else_cannot_cancel(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    async with door.client() as client:
        stranger = await client.post(cancel_url(ticket), headers=door.auth("someone"))
        other_host = await client.post(
            cancel_url(ticket), headers=door.auth(f"host-{uuid.uuid4()}", "host")
        )
    assert stranger.status_code == 404
    assert other_host.status_code == 404
    assert await door.seats(event["event_id"]) == (1, 0)


async def test_ticket_cannot_be_cancelled_twice_or_after_check_in(door: Any) -> None:
    event = await door.event()
    ticket, admitted = await door.ticket(event), await door.ticket(event)
    host = door.auth(event["host_id"], "host")
    async with door.client() as client:
        first = await client.post(cancel_url(ticket), headers=host)
        again = await client.post(cancel_url(ticket), headers=host)
        await client.post("/tickets/check-in", json={"qr_payload": door.qr(admitted)}, headers=host)
        checked_in = await client.post(cancel_url(admitted), headers=host)
    assert first.status_code == 200
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "ticket_not_cancellable"
    assert again.json()["error"]["details"] == {"status": "cancelled"}
    assert checked_in.status_code == 409
    assert checked_in.json()["error"]["code"] == "already_checked_in"
    assert await door.seats(event["event_id"]) == (1, 0)


async def test_holder_and_host_cancelling_at_once_free_one_seat(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    await door.ticket(event)
    who = [door.auth(ticket["user_id"]), door.auth(event["host_id"], "host")] * 3
    clients = [door.client() for _ in who]
    try:
        responses = await asyncio.gather(
            *(c.post(cancel_url(ticket), headers=h) for c, h in zip(clients, who, strict=True))
        )
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    assert sorted(r.status_code for r in responses) == [200] + [409] * 5
    assert await door.seats(event["event_id"]) == (1, 0)
    kinds = [kind for kind, _ in await door.events_of(ticket["id"])]
    assert kinds == ["ticket.cancelled", "ticket.refund_requested"]


async def test_check_in_racing_a_cancellation_leaves_one_consistent_outcome(door: Any) -> None:
    for _ in range(5):
        event = await door.event()
        ticket = await door.ticket(event)
        host = door.auth(event["host_id"], "host")
        async with door.client() as scanner, door.client() as app:
            scan, cancel = await asyncio.gather(
                scanner.post(
                    "/tickets/check-in", json={"qr_payload": door.qr(ticket)}, headers=host
                ),
                app.post(cancel_url(ticket), headers=door.auth(ticket["user_id"])),
            )
        assert sorted([scan.status_code, cancel.status_code]) == [200, 409], (
            scan.text,
            cancel.text,
        )
        kinds = [kind for kind, _ in await door.events_of(ticket["id"])]
        if scan.status_code == 200:
            assert cancel.json()["error"]["code"] == "already_checked_in"
            assert kinds == ["ticket.checked_in"]
            assert await door.seats(event["event_id"]) == (1, 0)
        else:
            assert scan.json()["error"]["details"] == {"status": "cancelled"}
            assert kinds == ["ticket.cancelled", "ticket.refund_requested"]
            assert await door.seats(event["event_id"]) == (0, 0)
