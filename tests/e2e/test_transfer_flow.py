"""End to end, an official transfer: Siti buys and pays, hands her ticket to Budi, Budi gets his
own e-ticket, Siti's code stops working at the door and Budi's new one admits him."""

import uuid
from datetime import timedelta
from typing import Any

import httpx
from e2e_steps import buy_and_pay, create_event, mails_to
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
        await create_event(
            client,
            host,
            event_id,
            title="Festival Musik Bandung",
            venue="Lapangan Gasibu, Bandung",
            starts_in=timedelta(days=5),
            price=PRICE,
            capacity=20,
        )
        old = await buy_and_pay(stack, client, event_id, siti_id, amount=PRICE, payment_type="qris")

        offered = await client.post(
            f"/tickets/{old['id']}/transfer",
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
            code = moved["attendance_code"]
            return [m for m in await mails_to(stack, budi_email) if code in (m["text"] or "")]

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
        assert (await client.get(f"/tickets/{old['id']}", headers=siti)).status_code == 404
