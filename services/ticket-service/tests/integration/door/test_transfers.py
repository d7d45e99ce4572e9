"""Ticket transfer over real HTTP on the real PostgreSQL: the old code and QR stop at once."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

CHECK_IN = "/tickets/check-in"
RECEIVER = {"name": "Budi Santoso", "email": "budi@example.id"}


async def _offer(door: Any, client: Any, ticket: dict[str, Any]) -> Any:
    return await client.post(
        f"/tickets/{ticket['id']}/transfer", json=RECEIVER, headers=door.auth(ticket["user_id"])
    )


async def _accept(door: Any, client: Any, token: str, receiver: str) -> Any:
    return await client.post(f"/transfers/{token}/accept", headers=door.auth(receiver))


async def _policy(door: Any, client: Any, event: dict[str, Any], **policy: Any) -> Any:
    body = {"allowed": True, "deadline": None, "max_transfers_per_ticket": 1, **policy}
    return await client.put(
        f"/events/{event['event_id']}/transfer-policy",
        json=body,
        headers=door.auth(event["host_id"], "host"),
    )


async def test_transfer_voids_old_code_and_qr_and_the_new_holder_checks_in(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    receiver = f"receiver-{uuid.uuid4()}"
    host = door.auth(event["host_id"], "host")
    async with door.client() as client:
        offered = await _offer(door, client, ticket)
        assert offered.status_code == 201, offered.text
        offer = offered.json()["data"]
        assert offer["status"] == "offered" and offer["expires_at"]
        accepted = await _accept(door, client, offer["accept_token"], receiver)
        assert accepted.status_code == 200, accepted.text
        moved = accepted.json()["data"]
        assert moved["id"] == ticket["id"]
        assert moved["user_id"] == receiver
        assert moved["holder_name"] == RECEIVER["name"]
        assert moved["attendance_code"] != ticket["code"]

        old_code = await client.post(
            CHECK_IN, json={"attendance_code": ticket["code"]}, headers=host
        )
        old_qr = await client.post(CHECK_IN, json={"qr_payload": door.qr(ticket)}, headers=host)
        assert old_code.status_code == 404, old_code.text
        assert old_qr.status_code == 422, old_qr.text
        assert old_qr.json()["error"]["code"] == "invalid_qr_code"

        # The new holder's QR, as the app fetches it, admits them.
        qr = await client.get(
            f"/tickets/{ticket['id']}/qr", params={"format": "json"}, headers=door.auth(receiver)
        )
        assert qr.status_code == 200
        assert qr.json()["data"]["qr_payload"] != door.qr(ticket)
        new_holder = await client.post(
            CHECK_IN, json={"qr_payload": qr.json()["data"]["qr_payload"]}, headers=host
        )
        assert new_holder.status_code == 200, new_holder.text
        assert new_holder.json()["data"]["user_id"] == receiver

        # The trail: the receiver and the host see it; the former holder no longer does.
        trail = await client.get(f"/tickets/{ticket['id']}/transfers", headers=door.auth(receiver))
        former = await client.get(
            f"/tickets/{ticket['id']}/transfers", headers=door.auth(ticket["user_id"])
        )
        by_host = await client.get(f"/tickets/{ticket['id']}/transfers", headers=host)
    assert trail.status_code == 200
    [entry] = trail.json()["data"]
    assert entry["status"] == "accepted"
    assert entry["from"]["user_id"] == ticket["user_id"]
    assert entry["to"]["user_id"] == receiver
    assert "accept_token" not in entry
    assert former.status_code == 404
    assert by_host.json()["data"] == trail.json()["data"]
    # The receiver's e-ticket goes out as an activation with the new code, marked as a
    # transfer so that notification-gateway e-mails it alone (its order was announced).
    activated = [p for kind, p in await door.events_of(ticket["id"]) if kind == "ticket.activated"]
    assert activated[-1]["user_id"] == receiver
    assert activated[-1]["attendance_code"] == moved["attendance_code"]
    assert activated[-1]["transferred"] is True
    assert [p.get("transferred") for p in activated[:-1]] == [False] * (len(activated) - 1)
    # Its QR is the offline one (TKT2) of the new code, the same the app draws.
    assert activated[-1]["qr_payload"] == qr.json()["data"]["qr_payload"]
    claims = await door.verify_offline(activated[-1]["qr_payload"], event["event_id"])
    assert (claims.ticket_id, claims.attendance_code) == (ticket["id"], moved["attendance_code"])
    version = await door.pool.fetchval(
        "SELECT qr_version FROM tickets WHERE id = $1", uuid.UUID(ticket["id"])
    )
    assert version == 2


async def test_checked_in_ticket_cannot_be_transferred(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    async with door.client() as client:
        await client.post(
            CHECK_IN,
            json={"attendance_code": ticket["code"]},
            headers=door.auth(event["host_id"], "host"),
        )
        refused = await _offer(door, client, ticket)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "already_checked_in"


async def test_transfer_after_the_deadline_is_refused(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    late = await door.ticket(event)
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    async with door.client() as client:
        offer = (await _offer(door, client, late)).json()["data"]
        assert (await _policy(door, client, event, deadline=past)).status_code == 200
        refused = await _offer(door, client, ticket)
        # An offer made in time cannot be accepted once the deadline has passed either.
        too_late = await _accept(door, client, offer["accept_token"], "receiver-late")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "transfer_deadline_passed"
    assert too_late.status_code == 409
    assert too_late.json()["error"]["code"] == "transfer_deadline_passed"


async def test_host_rules_forbid_and_limit_transfers(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    async with door.client() as client:
        await _policy(door, client, event, allowed=False)
        forbidden = await _offer(door, client, ticket)
        await _policy(door, client, event, allowed=True, max_transfers_per_ticket=1)
        offer = (await _offer(door, client, ticket)).json()["data"]
        receiver = f"receiver-{uuid.uuid4()}"
        await _accept(door, client, offer["accept_token"], receiver)
        again = await _offer(door, client, {**ticket, "user_id": receiver})
        not_host = await client.put(
            f"/events/{event['event_id']}/transfer-policy",
            json={"allowed": True, "max_transfers_per_ticket": 3},
            headers=door.auth(receiver, "host"),
        )
        policy = await client.get(
            f"/events/{event['event_id']}/transfer-policy", headers=door.auth(receiver)
        )
    assert forbidden.json()["error"]["code"] == "transfers_not_allowed"
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "transfer_limit_reached"
    assert not_host.status_code == 403
    assert policy.json()["data"]["max_transfers_per_ticket"] == 1


async def test_only_the_holder_offers_and_only_once_at_a_time(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    async with door.client() as client:
        stranger = await client.post(
            f"/tickets/{ticket['id']}/transfer", json=RECEIVER, headers=door.auth("someone-else")
        )
        anonymous = await client.post(f"/tickets/{ticket['id']}/transfer", json=RECEIVER)
        bad_email = await client.post(
            f"/tickets/{ticket['id']}/transfer",
            json={"name": "Budi", "email": "not-an-email"},
            headers=door.auth(ticket["user_id"]),
        )
        first = await _offer(door, client, ticket)
        second = await _offer(door, client, ticket)
        withdrawn = await client.delete(
            f"/tickets/{ticket['id']}/transfer", headers=door.auth(ticket["user_id"])
        )
        stale = await _accept(door, client, first.json()["data"]["accept_token"], "late-receiver")
        unknown = await _accept(door, client, "x" * 43, "late-receiver")
    assert stranger.status_code == 404
    assert anonymous.status_code == 401
    assert bad_email.status_code == 422
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "transfer_already_offered"
    assert withdrawn.json()["data"]["status"] == "withdrawn"
    assert stale.status_code == 409
    assert stale.json()["error"]["details"]["status"] == "withdrawn"
    assert unknown.status_code == 404


async def test_two_accepts_of_one_token_move_the_ticket_once(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    async with door.client() as client:
        token = (await _offer(door, client, ticket)).json()["data"]["accept_token"]
    clients = [door.client() for _ in range(6)]
    try:
        answers = await asyncio.gather(
            *(_accept(door, c, token, f"receiver-{i}") for i, c in enumerate(clients))
        )
    finally:
        for c in clients:
            await c.aclose()
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 409, 409, 409, 409, 409]
    winner = next(a for a in answers if a.status_code == 200).json()["data"]["user_id"]
    holder = await door.pool.fetchval(
        "SELECT user_id FROM tickets WHERE id = $1", uuid.UUID(ticket["id"])
    )
    assert holder == winner


async def test_a_transfer_racing_a_check_in_lets_exactly_one_win(door: Any) -> None:
    event = await door.event()
    host = door.auth(event["host_id"], "host")
    tickets = [await door.ticket(event) for _ in range(8)]
    async with door.client() as client:
        tokens = [(await _offer(door, client, t)).json()["data"]["accept_token"] for t in tickets]
    clients = [door.client() for _ in range(16)]
    try:
        calls = []
        for i, (ticket, token) in enumerate(zip(tickets, tokens, strict=True)):
            calls.append(_accept(door, clients[2 * i], token, f"receiver-{i}"))
            calls.append(
                clients[2 * i + 1].post(
                    CHECK_IN, json={"attendance_code": ticket["code"]}, headers=host
                )
            )
        answers = await asyncio.gather(*calls)
    finally:
        for c in clients:
            await c.aclose()
    for i, ticket in enumerate(tickets):
        accepted, checked_in = answers[2 * i], answers[2 * i + 1]
        assert sorted([accepted.status_code == 200, checked_in.status_code == 200]) == [
            False,
            True,
        ], (accepted.text, checked_in.text)
        row = await door.pool.fetchrow(
            "SELECT user_id, is_checked_in FROM tickets WHERE id = $1", uuid.UUID(ticket["id"])
        )
        if accepted.status_code == 200:
            assert row["user_id"] == f"receiver-{i}" and not row["is_checked_in"]
        else:
            assert row["user_id"] == ticket["user_id"] and row["is_checked_in"]
            assert accepted.json()["error"]["code"] == "already_checked_in"
