"""The host's live count and the attendee export (issue 15)."""

import csv
import io
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from ticket_service.domain.attendance_codes import ALPHABET


async def test_the_count_follows_entries_exits_and_flagged_offline_scans(door: Any) -> None:
    event = await door.event()
    one, two, gone = await door.ticket(event), await door.ticket(event), await door.ticket(event)
    host = door.auth(event["host_id"], "host")
    base = f"/events/{event['event_id']}"
    async with door.client() as client:
        empty = (await client.get(f"{base}/check-in-stats", headers=host)).json()["data"]
        await client.post("/tickets/check-in", json={"attendance_code": one["code"]}, headers=host)
        await client.post("/tickets/check-in", json={"attendance_code": two["code"]}, headers=host)
        await client.post(
            "/tickets/check-in",
            json={"attendance_code": two["code"], "direction": "out"},
            headers=host,
        )
        await client.post(f"/tickets/{gone['id']}/cancel", headers=host)
        await client.post(
            f"{base}/check-ins/sync",
            json={
                "scans": [
                    {
                        "nonce": "late",
                        "ticket_id": gone["id"],
                        "scanned_at": datetime.now(UTC).isoformat(),
                    }
                ]
            },
            headers=host,
        )
        stats = await client.get(f"{base}/check-in-stats", headers=host)
        stranger = await client.get(
            f"{base}/check-in-stats", headers=door.auth(f"host-{uuid.uuid4()}", "host")
        )
    assert (empty["admitted"], empty["inside"], empty["last_scans"]) == (0, 0, [])
    assert stats.status_code == 200, stats.text
    data = stats.json()["data"]
    assert (data["admitted"], data["inside"], data["flagged"]) == (2, 1, 1)
    assert data["by_list_and_type"] == [
        {"list_id": "default", "ticket_type_id": None, "admitted": 2}
    ]
    last = data["last_scans"]
    assert [(s["direction"], s["result"]) for s in last] == [
        ("in", "refused"),
        ("out", "accepted"),
        ("in", "accepted"),
        ("in", "accepted"),
    ]
    assert last[0]["flagged"] is True
    assert last[0]["offline"] is True
    assert stranger.status_code == 404


async def test_attendee_export_streams_50000_tickets(door: Any) -> None:
    event = await door.event(capacity=100_000)
    await door.pool.execute(
        """INSERT INTO tickets (id, user_id, event_id, attendance_code, price_paid, status,
                                holder_name, holder_email, activated_at)
           SELECT gen_random_uuid(), 'buyer-' || n, $1,
                  substr($2, n / 29791 % 31 + 1, 1) || substr($2, n / 961 % 31 + 1, 1)
                  || substr($2, n / 31 % 31 + 1, 1) || substr($2, n % 31 + 1, 1),
                  75000, 'active', CASE WHEN n = 7 THEN '=HYPERLINK("x")' ELSE 'Holder ' || n END,
                  'h' || n || '@example.id', now()
             FROM generate_series(1, 50000) AS n""",
        event["event_id"],
        ALPHABET,
    )
    started = time.perf_counter()
    lines = 0
    chunks = 0
    body = io.StringIO()
    async with door.client() as client:
        async with client.stream(
            "GET",
            f"/events/{event['event_id']}/attendees.csv",
            headers=door.auth(event["host_id"], "host"),
            timeout=60,
        ) as answer:
            assert answer.status_code == 200
            assert answer.headers["content-type"].startswith("text/csv")
            async for chunk in answer.aiter_text():
                chunks += 1
                body.write(chunk)
        denied = await client.get(
            f"/events/{event['event_id']}/attendees.csv",
            headers=door.auth(f"host-{uuid.uuid4()}", "host"),
        )
    elapsed = time.perf_counter() - started
    rows = list(csv.reader(io.StringIO(body.getvalue())))
    lines = len(rows) - 1
    assert rows[0][:4] == ["ticket_id", "attendance_code", "ticket_type_id", "holder_name"]
    assert lines == 50_000
    assert chunks > 1  # streamed, not built whole
    assert any(r[3] == '\'=HYPERLINK("x")' for r in rows[1:])  # formulas are defused
    assert denied.status_code == 403
    print(f"50,000-ticket export in {elapsed * 1000:.0f} ms, {len(body.getvalue())} bytes")
