"""Issue 15 at the online door: no oracle for strangers, the failure limit, gates and re-entry."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

CHECK_IN = "/tickets/check-in"


async def typed(door: Any, event: dict[str, Any], ticket: dict[str, Any], type_id: str) -> None:
    """Give the ticket a type (issue 14's table; created here until its API is merged)."""
    await door.pool.execute(
        """INSERT INTO ticket_types (event_id, id, name, price) VALUES ($1, $2, $2, 0)
           ON CONFLICT DO NOTHING""",
        event["event_id"],
        type_id,
    )
    await door.pool.execute(
        "UPDATE tickets SET ticket_type_id = $2 WHERE id = $1", uuid.UUID(ticket["id"]), type_id
    )


async def test_a_stranger_gets_the_same_answer_for_existing_and_unknown_codes(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    unknown = next(c for c in ("ZZZZ", "YYYY", "XXXX") if c != ticket["code"])
    stranger = door.auth(f"host-{uuid.uuid4()}", "host")
    answers = []
    async with door.client() as client:
        for code in (ticket["code"], unknown):
            body = {"attendance_code": code, "event_id": event["event_id"]}
            answers.append(await client.post(CHECK_IN, json=body, headers=stranger))
            answers.append(
                await client.get(
                    f"/tickets/by-code/{code}",
                    params={"event_id": event["event_id"]},
                    headers=stranger,
                )
            )
    check_existing, lookup_existing, check_unknown, lookup_unknown = answers
    assert check_existing.status_code == check_unknown.status_code == 404
    assert lookup_existing.status_code == lookup_unknown.status_code == 404
    assert check_existing.json() == check_unknown.json()
    assert lookup_existing.json() == lookup_unknown.json()
    assert await door.events_of(ticket["id"]) == []


async def test_too_many_failed_attempts_are_refused_with_retry_after(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    guesser = door.auth(event["host_id"], "host")
    other_host = await door.event()
    async with door.client() as client:
        codes = [c1 + c2 + "ZZ" for c1 in "ABCDEF" for c2 in "ABCDE"]
        misses = [c for c in codes if c != ticket["code"]][:30]
        for code in misses:
            answer = await client.get(f"/tickets/by-code/{code}", headers=guesser)
            assert answer.status_code == 404, answer.text
        blocked = await client.post(
            CHECK_IN, json={"attendance_code": ticket["code"]}, headers=guesser
        )
        elsewhere = await client.get(
            f"/tickets/by-code/{ticket['code']}", headers=door.auth(other_host["host_id"], "host")
        )
    assert blocked.status_code == 429, blocked.text
    assert blocked.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(blocked.headers["retry-after"]) <= 300
    assert elsewhere.status_code == 404  # another caller's count is its own
    assert await door.events_of(ticket["id"]) == []


async def test_a_gate_admits_only_its_types_and_says_why_not(door: Any) -> None:
    event = await door.event()
    vip, festival = await door.ticket(event), await door.ticket(event)
    await typed(door, event, vip, "vip")
    await typed(door, event, festival, "festival-a")
    host = door.auth(event["host_id"], "host")
    base = f"/events/{event['event_id']}/check-in-lists"
    async with door.client() as client:
        put = await client.put(
            f"{base}/vip-gate",
            json={"name": "VIP gate", "ticket_type_ids": ["vip"]},
            headers=host,
        )
        unknown_type = await client.put(
            f"{base}/x", json={"name": "X", "ticket_type_ids": ["nope"]}, headers=host
        )
        stranger = await client.put(
            f"{base}/x", json={"name": "X"}, headers=door.auth(f"host-{uuid.uuid4()}", "host")
        )
        listed = await client.get(base, headers=host)
        wrong = await client.post(
            CHECK_IN,
            json={"attendance_code": festival["code"], "list_id": "vip-gate"},
            headers=host,
        )
        right = await client.post(
            CHECK_IN, json={"attendance_code": vip["code"], "list_id": "vip-gate"}, headers=host
        )
        no_such = await client.post(
            CHECK_IN, json={"attendance_code": festival["code"], "list_id": "nope"}, headers=host
        )
        by_default = await client.post(
            CHECK_IN, json={"attendance_code": festival["code"]}, headers=host
        )
    assert put.status_code == 200, put.text
    assert put.json()["data"]["ticket_type_ids"] == ["vip"]
    assert unknown_type.status_code == 404
    assert stranger.status_code == 403
    assert [g["id"] for g in listed.json()["data"]] == ["default", "vip-gate"]
    assert listed.json()["data"][0]["ticket_type_ids"] is None
    assert wrong.status_code == 409
    assert wrong.json()["error"]["code"] == "ticket_not_on_list"
    assert wrong.json()["error"]["details"]["ticket_type_id"] == "festival-a"
    assert right.status_code == 200, right.text
    assert no_such.status_code == 404
    assert no_such.json()["error"]["code"] == "check_in_list_not_found"
    assert by_default.status_code == 200
    events = await door.events_of(vip["id"])
    assert [kind for kind, _ in events] == ["ticket.checked_in"]
    assert events[0][1]["list_id"] == "vip-gate"
    assert events[0][1]["ticket_type_id"] == "vip"


async def test_exit_and_re_entry_only_where_the_list_allows_it(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    host = door.auth(event["host_id"], "host")
    base = f"/events/{event['event_id']}/check-in-lists"

    def scan(list_id: str, direction: str) -> dict[str, str]:
        return {"attendance_code": ticket["code"], "list_id": list_id, "direction": direction}

    async with door.client() as client:
        await client.put(
            f"{base}/wristband", json={"name": "Wristband", "allow_reentry": True}, headers=host
        )
        out_first = await client.post(CHECK_IN, json=scan("default", "out"), headers=host)
        first_in = await client.post(CHECK_IN, json=scan("default", "in"), headers=host)
        in_again = await client.post(CHECK_IN, json=scan("default", "in"), headers=host)
        out = await client.post(CHECK_IN, json=scan("default", "out"), headers=host)
        back_default = await client.post(CHECK_IN, json=scan("default", "in"), headers=host)
        back_wristband = await client.post(CHECK_IN, json=scan("wristband", "in"), headers=host)
        inside_twice = await client.post(CHECK_IN, json=scan("wristband", "in"), headers=host)
    assert out_first.status_code == 409
    assert out_first.json()["error"]["code"] == "not_inside"
    assert first_in.status_code == 200
    assert in_again.json()["error"]["code"] == "already_checked_in"
    assert out.status_code == 200, out.text
    assert back_default.status_code == 409
    assert back_default.json()["error"]["code"] == "already_checked_in"
    assert back_wristband.status_code == 200, back_wristband.text
    assert (
        back_wristband.json()["data"]["checked_in_at"] == first_in.json()["data"]["checked_in_at"]
    )
    assert inside_twice.status_code == 409
    kinds = [(p["direction"], p["reentry"]) for _, p in await door.events_of(ticket["id"])]
    assert kinds == [("in", False), ("out", False), ("in", True)]


async def test_a_closed_gate_refuses(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    host = door.auth(event["host_id"], "host")
    later = datetime.now(UTC) + timedelta(hours=2)
    async with door.client() as client:
        await client.put(
            f"/events/{event['event_id']}/check-in-lists/evening",
            json={"name": "Evening", "opens_at": later.isoformat()},
            headers=host,
        )
        refused = await client.post(
            CHECK_IN, json={"attendance_code": ticket["code"], "list_id": "evening"}, headers=host
        )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "check_in_list_closed"
