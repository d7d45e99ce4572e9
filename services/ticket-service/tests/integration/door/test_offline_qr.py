"""QR codes verified offline with the event's public key alone; the key rotates (issue 15)."""

import base64
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ticket_service.domain.offline_qr import sign_offline_qr, verify_offline_qr
from ticket_service.domain.qr_codes import InvalidQrCode


def public_keys(answer: dict[str, Any]) -> dict[str, bytes]:
    """What a scanner keeps from GET /events/{id}/check-in-key: key id -> raw public key."""
    return {
        k["key_id"]: base64.urlsafe_b64decode(k["public_key"] + "=" * (-len(k["public_key"]) % 4))
        for k in answer["data"]["keys"]
    }


async def test_forged_or_re_signed_qr_fails_offline_and_a_rotation_keeps_old_qrs(
    door: Any,
) -> None:
    event = await door.event()
    ticket, other = await door.ticket(event), await door.ticket(event)
    host = door.auth(event["host_id"], "host")
    url = f"/tickets/{ticket['id']}/qr"
    async with door.client() as client:
        genuine = (await client.get(url, params={"format": "json"}, headers=host)).json()
        keys = (await client.get(f"/events/{event['event_id']}/check-in-key", headers=host)).json()
        stranger = await client.get(
            f"/events/{event['event_id']}/check-in-key",
            headers=door.auth(f"host-{uuid.uuid4()}", "host"),
        )
        rotated = await client.post(
            f"/events/{event['event_id']}/check-in-key/rotate", headers=host
        )
        after = (await client.get(url, params={"format": "json"}, headers=host)).json()
        online_old = await client.post(
            "/tickets/check-in", json={"qr_payload": genuine["data"]["qr_payload"]}, headers=host
        )
    payload = genuine["data"]["qr_payload"]
    offline = public_keys(keys)
    claims = verify_offline_qr(payload, offline)  # the scanner, with the public key only
    assert (claims.ticket_id, claims.attendance_code) == (ticket["id"], ticket["code"])
    assert stranger.status_code == 404
    body, _, signature = payload.rpartition(".")
    key_id = claims.key_id
    attacker = Ed25519PrivateKey.generate().private_bytes_raw()
    forged = [
        payload.replace(ticket["code"], other["code"]),  # edited code
        payload.replace(ticket["id"], other["id"]),  # edited ticket
        f"{body}.{signature[:-4]}AAAA",  # edited signature
        sign_offline_qr(  # re-signed with a key of the attacker's, under the event's key id
            event_id=event["event_id"],
            ticket_id=other["id"],
            attendance_code=other["code"],
            ticket_type_id=None,
            key_id=key_id,
            private_key=attacker,
        ),
        f"{body.rsplit('.', 1)[0]}.kfffffff.{signature}",  # a key id the event never had
    ]
    for bad in forged:
        with pytest.raises(InvalidQrCode):
            verify_offline_qr(bad, offline)
    assert rotated.status_code == 200
    after_keys = public_keys(rotated.json())
    assert len(after_keys) == 2 and key_id in after_keys
    assert [k["signing"] for k in rotated.json()["data"]["keys"]] == [True, False]
    new_payload = after["data"]["qr_payload"]
    assert verify_offline_qr(new_payload, after_keys).key_id != key_id
    assert verify_offline_qr(payload, after_keys).ticket_id == ticket["id"]  # old QR still good
    assert online_old.status_code == 200, online_old.text  # and admits online too
