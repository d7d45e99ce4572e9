"""Check-in at the door on the real PostgreSQL, over real HTTP: once, by code or signed QR."""

import asyncio
import time
import uuid
from typing import Any

import pytest

CHECK_IN = "/tickets/check-in"


async def test_host_checks_in_by_code_and_gets_the_updated_ticket(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    async with door.client() as client:
        response = await client.post(
            CHECK_IN,
            json={"attendance_code": ticket["code"].lower()},
            headers=door.auth(event["host_id"], "host"),
        )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["id"] == ticket["id"]
    assert data["is_checked_in"] is True
    assert data["checked_in_at"] is not None
    assert data["qr_url"] == f"/tickets/{ticket['id']}/qr"
    events = await door.events_of(ticket["id"])
    assert [kind for kind, _ in events] == ["ticket.checked_in"]
    payload = events[0][1]
    assert payload["checked_in_by"] == event["host_id"]
    assert payload["order_id"] == f"TKT-{ticket['id']}"


async def test_host_checks_in_by_signed_qr(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    async with door.client() as client:
        response = await client.post(
            CHECK_IN,
            json={"qr_payload": door.qr(ticket), "event_id": event["event_id"]},
            headers=door.auth(event["host_id"], "host"),
        )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["is_checked_in"] is True


async def test_second_check_in_is_refused_with_first_time(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    headers = door.auth(event["host_id"], "host")
    async with door.client() as client:
        first = await client.post(
            CHECK_IN, json={"attendance_code": ticket["code"]}, headers=headers
        )
        second = await client.post(CHECK_IN, json={"qr_payload": door.qr(ticket)}, headers=headers)
    assert first.status_code == 200
    assert second.status_code == 409
    error = second.json()["error"]
    assert error["code"] == "already_checked_in"
    assert error["details"]["checked_in_at"] == first.json()["data"]["checked_in_at"]


async def test_ten_scanners_racing_on_one_ticket_admit_exactly_one(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    host = door.auth(event["host_id"], "host")
    admin = door.auth(f"admin-{uuid.uuid4()}", "admin")
    bodies = [
        {"attendance_code": ticket["code"]} if i % 2 else {"qr_payload": door.qr(ticket)}
        for i in range(10)
    ]
    clients = [door.client() for _ in range(10)]  # ten scanners, ten connections
    started = time.perf_counter()
    try:
        responses = await asyncio.gather(
            *(
                c.post(CHECK_IN, json=body, headers=host if i < 7 else admin)
                for i, (c, body) in enumerate(zip(clients, bodies, strict=True))
            )
        )
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    elapsed = time.perf_counter() - started
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 9, [r.text for r in responses]
    admitted = next(r for r in responses if r.status_code == 200).json()["data"]
    for refused in (r for r in responses if r.status_code == 409):
        assert refused.json()["error"]["code"] == "already_checked_in"
        assert refused.json()["error"]["details"]["checked_in_at"] == admitted["checked_in_at"]
    assert [kind for kind, _ in await door.events_of(ticket["id"])] == ["ticket.checked_in"]
    print(f"10 racing scanners answered in {elapsed * 1000:.0f} ms")


async def test_scanner_retry_with_nonce_gets_the_first_answer(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    host = door.auth(event["host_id"], "host")
    body = {"attendance_code": ticket["code"], "nonce": str(uuid.uuid4())}
    async with door.client() as client:
        first = await client.post(CHECK_IN, json=body, headers=host)
        retry = await client.post(CHECK_IN, json=body, headers=host)
        without_nonce = await client.post(
            CHECK_IN, json={"attendance_code": ticket["code"]}, headers=host
        )
    assert first.status_code == 200
    assert retry.status_code == 200
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json()["data"]["checked_in_at"] == first.json()["data"]["checked_in_at"]
    assert without_nonce.status_code == 409
    assert len(await door.events_of(ticket["id"])) == 1


async def test_retries_racing_their_own_first_try_all_get_the_first_answer(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    host = door.auth(event["host_id"], "host")
    body = {"qr_payload": door.qr(ticket), "nonce": "scan-0001"}
    clients = [door.client() for _ in range(5)]
    try:
        responses = await asyncio.gather(
            *(c.post(CHECK_IN, json=body, headers=host) for c in clients)
        )
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    assert [r.status_code for r in responses] == [200] * 5, [r.text for r in responses]
    assert len({r.json()["data"]["checked_in_at"] for r in responses}) == 1
    assert len(await door.events_of(ticket["id"])) == 1


async def test_nonce_is_per_scanner_and_per_ticket(door: Any) -> None:
    event = await door.event()
    one, two = await door.ticket(event), await door.ticket(event)
    host = door.auth(event["host_id"], "host")
    async with door.client() as client:
        first = await client.post(
            CHECK_IN, json={"attendance_code": one["code"], "nonce": "n-1"}, headers=host
        )
        reused = await client.post(
            CHECK_IN, json={"attendance_code": two["code"], "nonce": "n-1"}, headers=host
        )
    assert first.status_code == 200
    assert reused.status_code == 409
    assert reused.json()["error"]["code"] == "nonce_reused"


async def test_forged_and_edited_qr_codes_are_refused(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    other = await door.ticket(event)
    genuine = door.qr(ticket)
    body, _, signature = genuine.rpartition(".")
    forged = [
        door.qr(ticket, key=("door2", b"a guessed secret")),  # right key id, wrong secret
        door.qr(ticket, key=("door9", b"door-test-current-key")),  # a key id we never had
        genuine.replace(ticket["code"], other["code"]),  # edited code
        genuine.replace(ticket["id"], other["id"]),  # edited ticket id
        f"{door.qr(other).rpartition('.')[0]}.{signature}",  # another ticket, this signature
        body + ".",  # signature removed
        ticket["code"],  # a bare code in the QR field
    ]
    host = door.auth(event["host_id"], "host")
    async with door.client() as client:
        for payload in forged:
            response = await client.post(CHECK_IN, json={"qr_payload": payload}, headers=host)
            assert response.status_code == 422, (payload, response.text)
            assert response.json()["error"]["code"] == "invalid_qr_code"
        got = await client.get(f"/tickets/{ticket['id']}", headers=host)
    assert await door.events_of(ticket["id"]) == []
    assert await door.events_of(other["id"]) == []
    if got.status_code == 200:  # the reading endpoint is issue 5's
        assert got.json()["data"]["is_checked_in"] is False


async def test_qr_signed_with_the_previous_key_still_admits(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    before_rotation = door.qr(ticket, key=("door1", b"door-test-previous-key"))
    async with door.client() as client:
        response = await client.post(
            CHECK_IN,
            json={"qr_payload": before_rotation},
            headers=door.auth(event["host_id"], "host"),
        )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("status", ["pending", "cancelled", "expired", "refunded"])
async def test_ticket_that_is_not_active_is_refused_with_its_status(door: Any, status: str) -> None:
    event = await door.event()
    ticket = await door.ticket(event, status=status)
    async with door.client() as client:
        by_code = await client.post(
            CHECK_IN,
            json={"attendance_code": ticket["code"]},
            headers=door.auth(event["host_id"], "host"),
        )
        by_qr = await client.post(
            CHECK_IN,
            json={"qr_payload": door.qr(ticket)},
            headers=door.auth(event["host_id"], "host"),
        )
    for response in (by_code, by_qr):
        assert response.status_code == 409, response.text
        assert response.json()["error"]["code"] == "ticket_not_active"
        assert response.json()["error"]["details"] == {"status": status}
    assert await door.events_of(ticket["id"]) == []


async def test_non_host_is_refused(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    other_host = door.auth(f"host-{uuid.uuid4()}", "host")
    async with door.client() as client:
        buyer = await client.post(
            CHECK_IN,
            json={"attendance_code": ticket["code"], "event_id": event["event_id"]},
            headers=door.auth(ticket["user_id"], "user"),
        )
        by_event = await client.post(
            CHECK_IN,
            json={"attendance_code": ticket["code"], "event_id": event["event_id"]},
            headers=other_host,
        )
        by_qr = await client.post(
            CHECK_IN, json={"qr_payload": door.qr(ticket)}, headers=other_host
        )
        by_code = await client.post(
            CHECK_IN, json={"attendance_code": ticket["code"]}, headers=other_host
        )
        anonymous = await client.post(CHECK_IN, json={"attendance_code": ticket["code"]})
    assert buyer.status_code == 403
    # Issue 15: a stranger learns nothing, so a rival's code answers as an unknown one.
    assert by_event.status_code == 404
    assert by_event.json()["error"]["code"] == "ticket_not_found"
    assert by_qr.status_code == 404
    assert by_code.status_code == 404  # only the host's own events are searched
    assert anonymous.status_code == 401
    assert await door.events_of(ticket["id"]) == []


async def test_code_shared_by_two_of_the_hosts_events_needs_the_event_id(door: Any) -> None:
    host_id = f"host-{uuid.uuid4()}"
    first, second = await door.event(host_id=host_id), await door.event(host_id=host_id)
    await door.ticket(first, code="K7PQ")
    ticket = await door.ticket(second, code="K7PQ")
    host = door.auth(host_id, "host")
    async with door.client() as client:
        ambiguous = await client.post(CHECK_IN, json={"attendance_code": "K7PQ"}, headers=host)
        chosen = await client.post(
            CHECK_IN,
            json={"attendance_code": "K7PQ", "event_id": second["event_id"]},
            headers=host,
        )
    assert ambiguous.status_code == 409
    assert ambiguous.json()["error"]["code"] == "ambiguous_code"
    assert ambiguous.json()["error"]["details"]["event_ids"] == sorted(
        [first["event_id"], second["event_id"]]
    )
    assert chosen.status_code == 200
    assert chosen.json()["data"]["id"] == ticket["id"]


async def test_unknown_code_and_malformed_requests(door: Any) -> None:
    event = await door.event()
    host = door.auth(event["host_id"], "host")
    async with door.client() as client:
        unknown = await client.post(CHECK_IN, json={"attendance_code": "ZZZZ"}, headers=host)
        not_a_code = await client.post(CHECK_IN, json={"attendance_code": "O0I1"}, headers=host)
        both = await client.post(
            CHECK_IN, json={"attendance_code": "ZZZZ", "qr_payload": "x"}, headers=host
        )
        neither = await client.post(CHECK_IN, json={}, headers=host)
    assert unknown.status_code == 404
    assert not_a_code.status_code == 404
    assert both.status_code == 422
    assert neither.status_code == 422


async def test_nonces_are_forgotten_after_a_day(door: Any) -> None:
    from types import SimpleNamespace

    from ticket_service.entrypoints.door_jobs import nonce_purger

    event = await door.event()
    old, fresh = await door.ticket(event), await door.ticket(event)
    scanner = f"host-{uuid.uuid4()}"
    await door.pool.execute(
        """INSERT INTO check_in_nonces (scanner_id, nonce, ticket_id, created_at)
           VALUES ($1, 'old', $2, now() - interval '25 hours'), ($1, 'fresh', $3, now())""",
        scanner,
        uuid.UUID(old["id"]),
        uuid.UUID(fresh["id"]),
    )
    await nonce_purger(SimpleNamespace(pool=door.pool)).run()  # type: ignore[arg-type]
    left = await door.pool.fetch("SELECT nonce FROM check_in_nonces WHERE scanner_id = $1", scanner)
    assert [r["nonce"] for r in left] == ["fresh"]
