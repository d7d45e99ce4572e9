"""End to end at the door: buy and pay through the gateway, then the host checks the buyer in.

By attendance code and by the QR the buyer's app shows; a second scan and a forged QR are refused.
"""

import uuid
from datetime import timedelta
from typing import Any

import httpx
from e2e_steps import buy_and_pay, create_event

PRICE = 125_000


async def test_host_checks_the_buyer_in_by_code_and_by_qr(stack: Any) -> None:
    host_id, event_id = f"host-{uuid.uuid4()}", str(uuid.uuid4())
    host = stack.auth(host_id, ("host",))
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        await create_event(
            client,
            host,
            event_id,
            title="Konser Senja di Kota Tua",
            venue="Kota Tua, Jakarta",
            starts_in=timedelta(days=3),
            price=PRICE,
            capacity=50,
        )

        by_code_buyer, by_qr_buyer = f"buyer-{uuid.uuid4()}", f"buyer-{uuid.uuid4()}"
        first = await buy_and_pay(
            stack, client, event_id, by_code_buyer, amount=PRICE, payment_type="bank_transfer"
        )
        second = await buy_and_pay(
            stack, client, event_id, by_qr_buyer, amount=PRICE, payment_type="bank_transfer"
        )
        assert first["qr_url"] == f"/tickets/{first['id']}/qr"

        # The door by attendance code, as the seed's check-in screen sends it.
        admitted = await client.post(
            "/tickets/check-in", json={"attendance_code": first["attendance_code"]}, headers=host
        )
        assert admitted.status_code == 200, admitted.text
        assert admitted.json()["data"]["is_checked_in"] is True

        # The buyer's app shows the QR; its signed payload is what the scanner reads.
        buyer = stack.auth(by_qr_buyer)
        png = await client.get(second["qr_url"], headers=buyer)
        assert png.status_code == 200
        assert png.headers["content-type"] == "image/png"
        qr = await client.get(second["qr_url"], params={"format": "json"}, headers=buyer)
        payload = qr.json()["data"]["qr_payload"]
        scanned = await client.post(
            "/tickets/check-in",
            json={"qr_payload": payload, "event_id": event_id, "nonce": str(uuid.uuid4())},
            headers=host,
        )
        assert scanned.status_code == 200, scanned.text
        assert scanned.json()["data"]["id"] == second["id"]

        # A second scan is refused with the time of the first.
        again = await client.post("/tickets/check-in", json={"qr_payload": payload}, headers=host)
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "already_checked_in"
        assert (
            again.json()["error"]["details"]["checked_in_at"]
            == scanned.json()["data"]["checked_in_at"]
        )

        # A QR edited to carry the other ticket's code, or re-signed with a guess, is refused.
        edited = payload.replace(second["attendance_code"], first["attendance_code"], 1)
        forged = payload.rpartition(".")[0] + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        for bad in (edited, forged):
            refused = await client.post("/tickets/check-in", json={"qr_payload": bad}, headers=host)
            assert refused.status_code == 422, refused.text
            assert refused.json()["error"]["code"] == "invalid_qr_code"

        # The host sees who is in.
        listed = await client.get(
            f"/events/{event_id}/tickets", params={"checked_in": "true"}, headers=host
        )
        assert listed.status_code == 200
        assert sorted(t["id"] for t in listed.json()["data"]) == sorted([first["id"], second["id"]])
        assert listed.json()["counts"]["checked_in"] == 2
