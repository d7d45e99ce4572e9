"""The ticket's QR image: signed payload, PNG or SVG, for the holder or the event's host only."""

import uuid
from typing import Any

from ticket_service.adapters.qr_image import render_png
from ticket_service.domain.qr_codes import verify_qr_payload
from ticket_service.settings import TicketSettings

KEYS = TicketSettings(qr_signing_keys="door1:door-test-previous-key").signing_keys


async def test_holder_gets_the_signed_qr_as_png_svg_or_text(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    holder = door.auth(ticket["user_id"])
    url = f"/tickets/{ticket['id']}/qr"
    async with door.client() as client:
        as_json = await client.get(url, params={"format": "json"}, headers=holder)
        png = await client.get(url, headers=holder)
        svg = await client.get(url, params={"format": "svg"}, headers=holder)
    assert as_json.status_code == 200
    payload = as_json.json()["data"]["qr_payload"]
    # Issue 15: the QR is signed with the event's Ed25519 key, verifiable offline.
    assert payload.startswith(f"TKT2.{event['event_id']}.{ticket['id']}.{ticket['code']}.")
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert png.headers["cache-control"] == "private, no-store"
    assert png.content == render_png(payload)  # the image draws exactly the signed payload
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content


async def test_payload_signed_before_a_rotation_is_still_verified_by_the_old_key(
    door: Any,
) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    old = door.qr(ticket, key=("door1", b"door-test-previous-key"))
    claims = verify_qr_payload(old, KEYS)
    assert (claims.ticket_id, claims.attendance_code) == (ticket["id"], ticket["code"])


async def test_host_gets_the_qr_and_a_stranger_does_not(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    url = f"/tickets/{ticket['id']}/qr"
    async with door.client() as client:
        host = await client.get(url, headers=door.auth(event["host_id"], "host"))
        stranger = await client.get(url, headers=door.auth(f"user-{uuid.uuid4()}"))
        other_host = await client.get(url, headers=door.auth(f"host-{uuid.uuid4()}", "host"))
        unknown = await client.get(f"/tickets/{uuid.uuid4()}/qr", headers=door.auth("u"))
    assert host.status_code == 200
    assert stranger.status_code == 404
    assert other_host.status_code == 404
    assert unknown.status_code == 404


async def test_ticket_that_is_not_active_has_no_qr(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event, status="pending")
    async with door.client() as client:
        response = await client.get(
            f"/tickets/{ticket['id']}/qr", headers=door.auth(ticket["user_id"])
        )
    assert response.status_code == 409
    assert response.json()["error"]["details"] == {"status": "pending"}
