"""End to end, an official transfer: Siti buys and pays, hands her ticket to Budi, Budi gets his
own e-ticket, Siti's code stops working at the door and Budi's new one admits him."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from e2e_waiting import eventually

PRICE = 150_000


async def test_a_transferred_ticket_is_e_ticketed_to_its_new_holder_and_only_his_code_admits(
    stack: Any,
) -> None:
    host_id, event_id = f"host-{uuid.uuid4()}", str(uuid.uuid4())
    siti_id, budi_id = f"siti-{uuid.uuid4()}", f"budi-{uuid.uuid4()}"
    host, siti, budi = stack.auth(host_id, ("host",)), stack.auth(siti_id), stack.auth(budi_id)
    budi_email = f"budi-{uuid.uuid4().hex[:10]}@example.id"
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        created = await client.put(
            f"/events/{event_id}",
            json={
                "title": "Festival Musik Bandung",
                "venue": "Lapangan Gasibu, Bandung",
                "starts_at": (datetime.now(UTC) + timedelta(days=5)).isoformat(),
                "price": PRICE,
                "capacity": 20,
            },
            headers=host,
        )
        assert created.status_code == 201, created.text
        bought = await client.post(
            "/tickets/purchase",
            json={
                "event_id": event_id,
                "customer_name": "Siti Rahma",
                "customer_email": f"{siti_id}@example.id",
                "customer_phone": "+6281234567890",
                "amount": PRICE,
            },
            headers=siti,
        )
        assert bought.status_code == 201, bought.text
        ticket = bought.json()["data"]
        async with httpx.AsyncClient(base_url=stack.sandbox_url, timeout=10) as sandbox:
            paid = await sandbox.post(
                f"/_sandbox/orders/{ticket['payment']['order_id']}/pay",
                json={"payment_type": "qris", "outcome": "settlement"},
            )
            assert paid.status_code < 300, paid.text

        async def active() -> dict[str, Any] | None:
            seen: dict[str, Any] = (
                await client.get(f"/tickets/{ticket['id']}", headers=siti)
            ).json()["data"]
            return seen if seen["status"] == "active" else None

        old = await eventually(active, "active ticket")

        offered = await client.post(
            f"/tickets/{ticket['id']}/transfer",
            json={"name": "Budi Santoso", "email": budi_email},
            headers=siti,
        )
        assert offered.status_code == 201, offered.text
        accepted = await client.post(
            f"/transfers/{offered.json()['data']['accept_token']}/accept", headers=budi
        )
        assert accepted.status_code == 200, accepted.text
        moved = accepted.json()["data"]
        assert moved["user_id"] == budi_id
        assert moved["attendance_code"] != old["attendance_code"]

        # Budi's own e-ticket, with his new code, reaches his address.
        async def e_ticket() -> list[dict[str, Any]]:
            async with httpx.AsyncClient(base_url=stack.mail_url, timeout=10) as mail:
                found = await mail.get("/messages", params={"to": budi_email})
            code = moved["attendance_code"]
            return [m for m in found.json()["data"] if code in (m["text"] or "")]

        [mail] = await eventually(e_ticket, "e-ticket for the transfer's receiver")
        assert [a for a in mail["attachments"] if a["content_type"] == "image/png"]

        # Siti's code no longer admits anyone; Budi's does.
        stale = await client.post(
            "/tickets/check-in", json={"attendance_code": old["attendance_code"]}, headers=host
        )
        assert stale.status_code == 404, stale.text
        admitted = await client.post(
            "/tickets/check-in", json={"attendance_code": moved["attendance_code"]}, headers=host
        )
        assert admitted.status_code == 200, admitted.text
        assert admitted.json()["data"]["user_id"] == budi_id
        assert (await client.get(f"/tickets/{ticket['id']}", headers=siti)).status_code == 404
