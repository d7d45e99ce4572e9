"""End to end, offline door (issue 15): through the gateway a host registers a scanner, which
syncs the list and the event's public key, scans QR codes offline (verifying each signature with
the public key alone), uploads the scans, and the host sees the live count change on the stream.
"""

import asyncio
import base64
import contextlib
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from e2e_steps import create_event
from ticket_service.domain.offline_qr import verify_offline_qr
from ticket_service.domain.qr_codes import InvalidQrCode


async def _follow(client: httpx.AsyncClient, headers: dict[str, str], seen: list[Any]) -> None:
    """Collect the host's stream entries of door scans."""
    async with client.stream("GET", "/notifications/stream", headers=headers, timeout=None) as s:
        assert s.status_code == 200
        seen.append("connected")
        event = ""
        async for line in s.aiter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event == "ticket.checked_in":
                seen.append(json.loads(line.removeprefix("data: ")))


async def test_offline_scanner_syncs_scans_uploads_and_the_host_sees_the_count(stack: Any) -> None:
    host_id, event_id = f"host-{uuid.uuid4()}", str(uuid.uuid4())
    host = stack.auth(host_id, ("host",))
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        await create_event(
            client,
            host,
            event_id,
            title="Festival Pantai Ancol",
            venue="Pantai Ancol, Jakarta",
            starts_in=timedelta(days=2),
            price=100_000,
            capacity=20,
        )
        tickets = []
        for n in range(3):
            comp = await client.post(
                "/tickets",
                json={
                    "event_id": event_id,
                    "user_id": f"guest-{n}-{uuid.uuid4()}",
                    "holder_name": f"Tamu {n}",
                    "holder_email": f"tamu{n}@example.id",
                },
                headers=host,
            )
            assert comp.status_code == 201, comp.text
            tickets.append(comp.json()["data"])

        seen: list[Any] = []
        follower = asyncio.create_task(_follow(client, host, seen))
        try:
            deadline = time.monotonic() + 10
            while "connected" not in seen:
                assert time.monotonic() < deadline, "the host's stream did not open"
                await asyncio.sleep(0.05)

            registered = await client.post(
                f"/events/{event_id}/scanners", json={"name": "Gerbang Utara"}, headers=host
            )
            assert registered.status_code == 201, registered.text
            scanner = {"Authorization": f"Bearer {registered.json()['data']['token']}"}

            # The scanner syncs while online: the list, and the event's public keys.
            listed = await client.get(
                f"/events/{event_id}/check-in-lists/default/tickets", headers=scanner
            )
            assert listed.status_code == 200, listed.text
            on_list = {t["id"]: t for t in listed.json()["data"]}
            assert set(on_list) == {t["id"] for t in tickets}
            keys = await client.get(f"/events/{event_id}/check-in-key", headers=scanner)
            assert keys.status_code == 200, keys.text
            public = {
                k["key_id"]: base64.urlsafe_b64decode(k["public_key"] + "==")
                for k in keys.json()["data"]["keys"]
            }
            qrs = []
            for ticket in tickets:
                shown = await client.get(
                    f"/tickets/{ticket['id']}/qr",
                    params={"format": "json"},
                    headers=stack.auth(ticket["user_id"]),
                )
                assert shown.status_code == 200, shown.text
                qrs.append(shown.json()["data"]["qr_payload"])
            before = await client.get(f"/events/{event_id}/check-in-stats", headers=host)
            assert before.json()["data"]["admitted"] == 0

            # Offline: each QR verified with the public key alone, and found on the list.
            scans = []
            for n, payload in enumerate(qrs):
                claims = verify_offline_qr(payload, public)
                assert on_list[claims.ticket_id]["attendance_code"] == claims.attendance_code
                scans.append(
                    {
                        "nonce": f"utara-{n}",
                        "ticket_id": claims.ticket_id,
                        "scanned_at": datetime.now(UTC).isoformat(),
                    }
                )
            forged = qrs[0].replace(tickets[0]["attendance_code"], tickets[1]["attendance_code"])
            with pytest.raises(InvalidQrCode):
                verify_offline_qr(forged, public)
            scans.append({**scans[0], "nonce": "utara-again"})  # the same person, scanned twice

            uploaded = await client.post(
                f"/events/{event_id}/check-ins/sync", json={"scans": scans}, headers=scanner
            )
            assert uploaded.status_code == 200, uploaded.text
            results = [r["result"] for r in uploaded.json()["data"]]
            assert results == ["accepted", "accepted", "accepted", "duplicate"]

            deadline = time.monotonic() + 30
            while len([s for s in seen if isinstance(s, dict)]) < 3:
                assert time.monotonic() < deadline, f"the stream showed {seen}"
                await asyncio.sleep(0.1)
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
        entries = [s for s in seen if isinstance(s, dict)]
        assert {e["data"]["ticket_id"] for e in entries} == {t["id"] for t in tickets}
        assert all(e["audience"] == "host" and e["data"]["offline"] == "true" for e in entries)
        after = await client.get(f"/events/{event_id}/check-in-stats", headers=host)
        assert after.json()["data"]["admitted"] == 3
        assert after.json()["data"]["inside"] == 3
