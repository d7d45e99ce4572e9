"""The fair waiting list through the gateway (issue 16).

A sold-out event; a user joins its waiting list; the buyer cancels; the seat never goes on
sale but is offered to the first waiting user, who hears of it by e-mail, accepts, pays in the
sandbox and gets the e-ticket with the order's receipt attached.
"""

import uuid
from datetime import timedelta
from typing import Any

import httpx
from e2e_steps import buy_ticket, create_event, mails_to, pay_in_sandbox, ticket_in_status
from e2e_waiting import eventually

PRICE = 175_000


async def _mail_to(stack: Any, address: str, needle: str) -> list[dict[str, Any]]:
    async def found() -> list[dict[str, Any]]:
        return [
            m
            for m in await mails_to(stack, address)
            if needle in m["subject"] + (m["text"] or "") + (m["html"] or "")
        ]

    return await eventually(found, f"an e-mail with {needle!r}")


async def _pay(stack: Any, order_id: str) -> None:
    response = await pay_in_sandbox(stack, order_id, "bank_transfer", bank="bca")
    assert response.status_code == 200, response.text


async def test_a_cancelled_seat_of_a_sold_out_event_goes_to_the_first_waiting_user(
    stack: Any,
) -> None:
    host, buyer, first, second = (f"{who}-{uuid.uuid4()}" for who in ("host", "b", "w1", "w2"))
    waiter_email = f"waiter-{uuid.uuid4().hex[:12]}@example.id"
    event_id = str(uuid.uuid4())
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=20) as client:
        await create_event(
            client,
            stack.auth(host, ("host",)),
            event_id,
            title="Festival Musik Danau Toba",
            venue="Parapat, Sumatera Utara",
            starts_in=timedelta(days=30),
            price=PRICE,
            currency="IDR",
            capacity=1,
        )

        # The one seat is sold.
        ticket = await buy_ticket(
            client,
            stack.auth(buyer),
            event_id,
            name="Butet Manurung",
            email="butet@example.id",
            amount=PRICE,
        )
        await _pay(stack, ticket["payment"]["order_id"])
        await ticket_in_status(client, ticket["id"], stack.auth(buyer))

        # Two users wait, in the order they joined.
        url = f"/events/{event_id}/waitlist"
        for user, email in ((first, waiter_email), (second, "kedua@example.id")):
            joined = await client.post(
                url,
                json={
                    "ticket_type_id": "default",
                    "quantity": 1,
                    "customer_name": "Rina Siregar",
                    "customer_email": email,
                },
                headers=stack.auth(user),
            )
            assert joined.status_code == 201, joined.text
        assert (await client.get(url, headers=stack.auth(second))).json()["data"]["position"] == 2

        # The buyer cancels: the seat comes back, but never to general sale.
        cancelled = await client.post(
            f"/tickets/{ticket['id']}/cancel", json={}, headers=stack.auth(buyer)
        )
        assert cancelled.status_code == 200, cancelled.text

        async def offer() -> dict[str, Any] | None:
            data: dict[str, Any] = (await client.get(url, headers=stack.auth(first))).json()["data"]
            return data["offer"]

        offered = await eventually(offer, "the first waiting user's offer")
        assert offered["seats"] == 1 and offered["total"] == PRICE
        someone = await client.post(
            "/tickets/purchase",
            json={
                "event_id": event_id,
                "customer_name": "Orang Lain",
                "customer_email": "lain@example.id",
                "amount": PRICE,
            },
            headers=stack.auth(f"other-{uuid.uuid4()}"),
        )
        assert someone.status_code == 409 and someone.json()["error"]["code"] == "sold_out"
        assert (await client.get(url, headers=stack.auth(second))).json()["data"]["offer"] is None

        # Told by e-mail; accepts; pays in the sandbox.
        await _mail_to(stack, waiter_email, "Festival Musik Danau Toba")
        accepted = await client.post(
            f"/waitlist/offers/{offered['id']}/accept", headers=stack.auth(first)
        )
        assert accepted.status_code == 201, accepted.text
        order = accepted.json()["data"]
        (new_ticket,) = order["tickets"]
        await _pay(stack, order["payment"]["order_id"])
        await ticket_in_status(client, new_ticket["id"], stack.auth(first))
        event = (await client.get(f"/events/{event_id}", headers=stack.auth(first))).json()["data"]
        assert (event["sold"], event["held"], event["available"]) == (1, 0, 0)

        # The order's receipt, as the buyer reads it.
        receipt = await client.get(
            f"/orders/{order['purchase_order_id']}/receipt", headers=stack.auth(first)
        )
        assert receipt.status_code == 200, receipt.text
        number = receipt.json()["data"]["number"]
        assert receipt.json()["data"]["total"] == PRICE

    # The e-ticket reaches the waiting user's inbox, with that receipt attached.
    [e_ticket] = await _mail_to(stack, waiter_email, new_ticket["attendance_code"])
    pdfs = await stack.attached_pdfs(e_ticket)
    assert list(pdfs) == [f"kwitansi-{number.replace('/', '-')}.pdf"], e_ticket["attachments"]
    [pdf] = pdfs.values()
    assert pdf.startswith(b"%PDF")
    text = stack.pdf_text(pdf)
    assert "(KWITANSI)" in text  # in the buyer's language, Indonesian by default
    assert f"({number})" in text  # the receipt's own number, printed on it
