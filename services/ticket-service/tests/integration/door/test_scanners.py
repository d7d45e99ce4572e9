"""The host's scanners on the real PostgreSQL: listing them, and revoking one shuts it out."""

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx


async def register(
    door: Any, event: dict[str, Any], client: httpx.AsyncClient, name: str = "Gate A"
) -> tuple[str, dict[str, str]]:
    """(scanner id, its Authorization header)."""
    answer = await client.post(
        f"/events/{event['event_id']}/scanners",
        json={"name": name},
        headers=door.auth(event["host_id"], "host"),
    )
    assert answer.status_code == 201, answer.text
    data = answer.json()["data"]
    return data["id"], {"Authorization": f"Bearer {data['token']}"}


def batch(tickets: list[dict[str, Any]]) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {
        "scans": [
            {"nonce": f"n-{uuid.uuid4()}", "ticket_id": t["id"], "scanned_at": now} for t in tickets
        ]
    }


async def door_calls(
    client: httpx.AsyncClient, event: dict[str, Any], ticket: dict[str, Any], token: dict[str, str]
) -> dict[str, httpx.Response]:
    """Every door call a scanner makes, once each."""
    event_id = event["event_id"]
    return {
        "check-in": await client.post(
            "/tickets/check-in",
            json={"attendance_code": ticket["code"], "event_id": event_id},
            headers=token,
        ),
        "list sync": await client.get(
            f"/events/{event_id}/check-in-lists/default/tickets", headers=token
        ),
        "upload": await client.post(
            f"/events/{event_id}/check-ins/sync", json=batch([ticket]), headers=token
        ),
        "key": await client.get(f"/events/{event_id}/check-in-key", headers=token),
    }


async def test_a_revoked_scanner_is_listed_as_revoked_and_its_token_is_refused_at_once(
    door: Any,
) -> None:
    event = await door.event()
    first, second, third = [await door.ticket(event) for _ in range(3)]
    host = door.auth(event["host_id"], "host")
    url = f"/events/{event['event_id']}/scanners"
    async with door.client() as client:
        lost_id, lost = await register(door, event, client, "Gate A")
        kept_id, kept = await register(door, event, client, "Gate B")
        before = await door_calls(client, event, first, lost)
        listed = await client.get(url, headers=host)
        revoked = await client.delete(f"{url}/{lost_id}", headers=host)
        after = await door_calls(client, event, second, lost)
        still = await door_calls(client, event, third, kept)
        again = await client.delete(f"{url}/{lost_id}", headers=door.auth("root", "admin"))
        relisted = await client.get(url, headers=host)

    assert {call: r.status_code for call, r in before.items()} == dict.fromkeys(before, 200)
    assert listed.status_code == 200, listed.text
    assert [(s["id"], s["name"], s["revoked"]) for s in listed.json()["data"]] == [
        (lost_id, "Gate A", False),
        (kept_id, "Gate B", False),
    ]
    seen = listed.json()["data"][0]
    assert seen["last_seen_at"] is not None and seen["last_synced_at"] is not None
    assert seen["created_by"] == event["host_id"] and "token" not in seen
    assert revoked.status_code == 200, revoked.text
    gone = revoked.json()["data"]
    assert gone["revoked"] is True and gone["revoked_by"] == event["host_id"]
    for call, answer in after.items():
        assert answer.status_code == 401, (call, answer.text)
        assert answer.json()["error"]["code"] == "invalid_token"
    assert {call: r.status_code for call, r in still.items()} == dict.fromkeys(still, 200)
    assert again.status_code == 200
    assert again.json()["data"] == gone  # idempotent: the first revoke's time and author stay
    assert [s["revoked"] for s in relisted.json()["data"]] == [True, False]
    assert (
        await door.pool.fetchval(
            "SELECT is_checked_in FROM tickets WHERE id = $1", uuid.UUID(second["id"])
        )
        is False
    )


async def test_only_the_events_host_or_an_admin_manages_its_scanners_and_key(
    door: Any,
) -> None:
    event = await door.event()
    other_event = await door.event(host_id=event["host_id"])
    url = f"/events/{event['event_id']}/scanners"
    async with door.client() as client:
        scanner_id, token = await register(door, event, client)
        elsewhere_id, _ = await register(door, other_event, client)
        another_host = door.auth(f"host-{uuid.uuid4()}", "host")
        host = door.auth(event["host_id"], "host")
        answers = {
            "another host lists": await client.get(url, headers=another_host),
            "another host revokes": await client.delete(
                f"{url}/{scanner_id}", headers=another_host
            ),
            "another host registers": await client.post(
                url, json={"name": "Gate X"}, headers=another_host
            ),
            "another host rotates the key": await client.post(
                f"/events/{event['event_id']}/check-in-key/rotate", headers=another_host
            ),
            "a user registers": await client.post(
                url, json={"name": "Gate X"}, headers=door.auth(event["host_id"])
            ),
            "a user lists": await client.get(url, headers=door.auth(event["host_id"])),
            "the scanner lists": await client.get(url, headers=token),
            "the scanner revokes": await client.delete(f"{url}/{scanner_id}", headers=token),
            "no such event": await client.get(
                f"/events/{uuid.uuid4()}/scanners", headers=door.auth("root", "admin")
            ),
            "another event's scanner": await client.delete(f"{url}/{elsewhere_id}", headers=host),
            "no such scanner": await client.delete(f"{url}/{uuid.uuid4()}", headers=host),
            "an admin lists": await client.get(url, headers=door.auth("root", "admin")),
        }
        still = await client.get(f"/events/{event['event_id']}/check-in-key", headers=token)

    refusals = {
        name: (answer.status_code, answer.json()["error"]["code"])
        for name, answer in answers.items()
        if answer.status_code != 200
    }
    assert refusals == {
        "another host lists": (404, "event_not_found"),
        "another host revokes": (404, "event_not_found"),
        "another host registers": (404, "event_not_found"),
        "another host rotates the key": (404, "event_not_found"),
        "a user registers": (403, "forbidden"),
        "a user lists": (403, "forbidden"),
        "the scanner lists": (401, "invalid_token"),
        "the scanner revokes": (401, "invalid_token"),
        "no such event": (404, "event_not_found"),
        "another event's scanner": (404, "scanner_not_found"),
        "no such scanner": (404, "scanner_not_found"),
    }
    assert [s["id"] for s in answers["an admin lists"].json()["data"]] == [scanner_id]
    assert still.status_code == 200  # nothing above revoked it
    retired = await door.pool.fetchval(
        "SELECT count(*) FROM check_in_keys WHERE event_id = $1 AND retired_at IS NOT NULL",
        event["event_id"],
    )
    assert retired == 0  # nor rotated the event's key


async def _until_waiting(door: Any, pattern: str, count: int = 1) -> None:
    """Until `count` statements matching `pattern` wait for a row lock."""
    for _ in range(400):
        found = await door.pool.fetchval(
            """SELECT count(*) FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock'
                  AND query LIKE $1""",
            pattern,
        )
        if found >= count:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"never {count} statement(s) like {pattern!r} waiting")


async def _outcome(door: Any, event: dict[str, Any], scanner_id: str) -> tuple[int, int, int]:
    """(scans recorded from the scanner, tickets admitted, ticket.checked_in written)."""
    applied = await door.pool.fetchval(
        "SELECT count(*) FROM scans WHERE scanned_by = $1", f"scanner-{scanner_id}"
    )
    admitted = await door.pool.fetchval(
        "SELECT count(*) FROM tickets WHERE event_id = $1 AND is_checked_in", event["event_id"]
    )
    published = await door.pool.fetchval(
        """SELECT count(*) FROM outbox WHERE event_type = 'ticket.checked_in'
              AND body -> 'payload' ->> 'event_id' = $1""",
        event["event_id"],
    )
    return applied, admitted, published


async def test_an_upload_checked_in_before_a_revoke_committed_applies_nothing_after_it(
    door: Any,
) -> None:
    """The revoke takes the scanner's row first (a transaction of the test's holds it, so both
    queue on it in a known order); the upload's token was checked before the revoke committed."""
    event = await door.event()
    tickets = [await door.ticket(event) for _ in range(20)]
    sync = f"/events/{event['event_id']}/check-ins/sync"
    async with door.client() as client:
        scanner_id, token = await register(door, event, client)
        async with door.pool.acquire() as blocker, blocker.transaction():
            await blocker.execute(
                "SELECT 1 FROM scanners WHERE id = $1 FOR SHARE", uuid.UUID(scanner_id)
            )
            revoking = asyncio.create_task(
                client.delete(
                    f"/events/{event['event_id']}/scanners/{scanner_id}",
                    headers=door.auth(event["host_id"], "host"),
                )
            )
            await _until_waiting(door, "%UPDATE scanners SET revoked_at%")
            uploading = asyncio.create_task(client.post(sync, json=batch(tickets), headers=token))
            await _until_waiting(door, "%UPDATE scanners SET last_synced_at%")
        revoked, uploaded = await revoking, await uploading

    assert revoked.status_code == 200, revoked.text
    assert uploaded.status_code == 401, uploaded.text
    assert uploaded.json()["error"]["code"] == "invalid_token"
    assert await _outcome(door, event, scanner_id) == (0, 0, 0)


async def test_a_revoke_during_an_upload_waits_until_the_upload_has_committed(
    door: Any,
) -> None:
    """The upload is held inside its transaction (the test locks one of its tickets) when the
    revoke comes: the revoke must not answer before the upload's scans are in."""
    event = await door.event()
    tickets = [await door.ticket(event) for _ in range(20)]
    sync = f"/events/{event['event_id']}/check-ins/sync"
    async with door.client() as client:
        scanner_id, token = await register(door, event, client)
        async with door.pool.acquire() as blocker, blocker.transaction():
            await blocker.execute(
                "SELECT 1 FROM tickets WHERE id = $1 FOR UPDATE", uuid.UUID(tickets[0]["id"])
            )
            uploading = asyncio.create_task(client.post(sync, json=batch(tickets), headers=token))
            await _until_waiting(door, "%FROM tickets%FOR UPDATE%")
            revoking = asyncio.create_task(
                client.delete(
                    f"/events/{event['event_id']}/scanners/{scanner_id}",
                    headers=door.auth(event["host_id"], "host"),
                )
            )
            await asyncio.wait(
                [revoking, asyncio.create_task(_until_waiting(door, "%SET revoked_at%"))],
                return_when=asyncio.FIRST_COMPLETED,
            )
            answered_first = revoking.done()
        uploaded, revoked = await uploading, await revoking
        later = await client.post(sync, json=batch(tickets), headers=token)

    assert revoked.status_code == 200, revoked.text
    assert not answered_first, "the revoke committed while the upload could still apply scans"
    assert uploaded.status_code == 200, uploaded.text
    assert {s["result"] for s in uploaded.json()["data"]} == {"accepted"}
    assert await _outcome(door, event, scanner_id) == (20, 20, 20)
    assert later.status_code == 401
