"""Issue 14 end to end, through the gateway: an order of three tickets, paid once.

A host sets up two ticket types in a shared quota and a promo code; a buyer orders three
tickets (one for themselves, two for friends) with the code, pays once in the sandbox; all three
turn active, each attendee gets their e-ticket (the buyer's e-mail with the order's receipt), the
host checks one in; then one ticket of the order is cancelled and only its share of the payment
is refunded.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from e2e_steps import create_event, mails_to, pay_in_sandbox
from e2e_waiting import eventually

VIP, REGULER = 250_000, 100_000
PERCENT_OFF = 10


async def _set_up_sale(client: httpx.AsyncClient, host: dict[str, str], event_id: str) -> None:
    await create_event(
        client,
        host,
        event_id,
        title="Java Jazz Festival Malam Minggu",
        venue="JIExpo Kemayoran, Jakarta",
        starts_in=timedelta(days=21),
        price=REGULER,
        currency="IDR",
        capacity=100,
    )
    now = datetime.now(UTC)
    window = {
        "sales_start": (now - timedelta(hours=1)).isoformat(),
        "sales_end": (now + timedelta(days=7)).isoformat(),
    }
    for type_id, name, price, position in (
        ("vip", "VIP", VIP, 1),
        ("reguler", "Reguler", REGULER, 2),
    ):
        put = await client.put(
            f"/events/{event_id}/ticket-types/{type_id}",
            json={
                "name": name,
                "price": price,
                "capacity": 20,
                "max_per_order": 4,
                "description": f"{name}, berdiri",
                "position": position,
                "hidden": False,
                **window,
            },
            headers=host,
        )
        assert put.status_code == 201, put.text
    quota = await client.put(
        f"/events/{event_id}/quotas/festival",
        json={"name": "Festival", "size": 10, "ticket_type_ids": ["vip", "reguler"]},
        headers=host,
    )
    assert quota.status_code == 201, quota.text
    promo = await client.put(
        f"/events/{event_id}/promo-codes/JAKARTA10",
        json={"percent_off": PERCENT_OFF, "max_uses": 5, "max_uses_per_user": 1},
        headers=host,
    )
    assert promo.status_code == 201, promo.text


async def test_an_order_of_three_tickets_is_paid_once_e_ticketed_checked_in_and_refunded_in_part(
    stack: Any,
) -> None:
    host_id, buyer_id, event_id = f"host-{uuid.uuid4()}", f"user-{uuid.uuid4()}", str(uuid.uuid4())
    host, buyer = stack.auth(host_id, ("host",)), stack.auth(buyer_id)
    tag = uuid.uuid4().hex[:10]
    emails = [f"{who}-{tag}@example.id" for who in ("dewi", "budi", "ayu")]
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        await _set_up_sale(client, host, event_id)
        shown = await client.get(f"/events/{event_id}", headers=buyer)
        assert shown.status_code == 200, shown.text
        types = {t["id"]: t for t in shown.json()["data"]["ticket_types"]}
        assert (types["vip"]["price"], types["reguler"]["price"]) == (VIP, REGULER)

        ordered = await client.post(
            "/orders",
            json={
                "event_id": event_id,
                "items": [
                    {"ticket_type_id": "vip", "quantity": 1},
                    {"ticket_type_id": "reguler", "quantity": 2},
                ],
                "attendees": [
                    {"name": "Dewi Lestari", "email": emails[0]},
                    {"name": "Budi Santoso", "email": emails[1]},
                    {"name": "Ayu Ting", "email": emails[2]},
                ],
                "customer_name": "Dewi Lestari",
                "customer_email": emails[0],
                "customer_phone": "+6281234567890",
                "promo_code": "jakarta10",  # codes are case-insensitive
            },
            headers={**buyer, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert ordered.status_code == 201, ordered.text
        order = ordered.json()["data"]
        gross = VIP + 2 * REGULER
        assert (order["status"], order["discount"]) == ("pending", gross * PERCENT_OFF // 100)
        assert order["total"] == gross - order["discount"]
        assert len(order["tickets"]) == 3
        payment_order = order["payment"]["order_id"]

        # One Snap transaction: a line per type and the discount as a negative line.
        async with httpx.AsyncClient(base_url=stack.sandbox_url, timeout=10) as sandbox:
            snap = (await sandbox.get(f"/_sandbox/orders/{payment_order}")).json()
            lines = snap["item_details"]
            assert snap["gross_amount"] == order["total"]
            assert sum(i["price"] * i["quantity"] for i in lines) == order["total"]
            assert sorted((i["price"], i["quantity"]) for i in lines) == [
                (-order["discount"], 1),
                (REGULER, 2),
                (VIP, 1),
            ]
        paid = await pay_in_sandbox(stack, payment_order, "gopay")
        assert paid.status_code == 200, paid.text

        async def all_active() -> dict[str, Any] | None:
            response = await client.get(f"/orders/{order['id']}", headers=buyer)
            assert response.status_code == 200, response.text
            data: dict[str, Any] = response.json()["data"]
            active = all(t["status"] == "active" for t in data["tickets"])
            return data if active else None

        order = await eventually(all_active, "every ticket of the order active")
        tickets = order["tickets"]
        by_email = {t["attendee"]["email"]: t for t in tickets}
        assert set(by_email) == set(emails)

        receipt = await client.get(f"/orders/{order['id']}/receipt", headers=buyer)
        assert receipt.status_code == 200, receipt.text
        number = receipt.json()["data"]["number"]

        # Each attendee gets an e-ticket: the buyer one e-mail with all three and the receipt,
        # the friends theirs without it.
        for address in emails:

            async def e_ticket(address: str = address) -> list[dict[str, Any]]:
                return [
                    m
                    for m in await mails_to(stack, address)
                    if by_email[address]["attendance_code"] in (m["text"] or "")
                ]

            [mail] = await eventually(e_ticket, f"the e-ticket to {address}")
            qr_images = [a for a in mail["attachments"] if a["content_type"] == "image/png"]
            assert len(qr_images) == (3 if address == emails[0] else 1), address
            pdfs = await stack.attached_pdfs(mail)
            if address != emails[0]:
                assert pdfs == {}, address
                continue
            assert list(pdfs) == [f"kwitansi-{number.replace('/', '-')}.pdf"]
            [pdf] = pdfs.values()
            assert pdf.startswith(b"%PDF") and f"({number})" in stack.pdf_text(pdf)
        assert len(await mails_to(stack, emails[0])) == 1  # once per order

        # The host checks Budi in.
        budi = by_email[emails[1]]
        admitted = await client.post(
            "/tickets/check-in", json={"attendance_code": budi["attendance_code"]}, headers=host
        )
        assert admitted.status_code == 200, admitted.text
        assert admitted.json()["data"]["is_checked_in"] is True

        # Ayu cannot come: her ticket is cancelled and only its share goes back.
        ayu = by_email[emails[2]]
        cancelled = await client.post(
            f"/tickets/{ayu['id']}/cancel", json={"reason": "cannot come"}, headers=buyer
        )
        assert cancelled.status_code == 200, cancelled.text
        share = REGULER * (100 - PERCENT_OFF) // 100

        async def partly_refunded() -> dict[str, Any] | None:
            response = await client.get(f"/api/payment/status/{payment_order}", headers=buyer)
            data: dict[str, Any] = response.json()["data"]
            done = data["status"] == "partially_refunded" and data["refunds"]
            return data if done and data["refunds"][0]["status"] == "succeeded" else None

        view = await eventually(partly_refunded, "the refund of one ticket's share")
        assert view["refunded_amount"] == share
        assert [(r["amount"], r["method"]) for r in view["refunds"]] == [(share, "api")]
        async with httpx.AsyncClient(base_url=stack.sandbox_url, timeout=10) as sandbox:
            snap = (await sandbox.get(f"/_sandbox/orders/{payment_order}")).json()
        assert [r["amount"] for r in snap["transaction"]["refunds"]] == [share]

        # Once her share is back, Ayu's ticket reads refunded; the others stay active.
        async def ayu_refunded() -> dict[str, str] | None:
            after = (await client.get(f"/orders/{order['id']}", headers=buyer)).json()["data"]
            statuses = {t["id"]: t["status"] for t in after["tickets"]}
            return statuses if statuses[ayu["id"]] == "refunded" else None

        statuses = await eventually(ayu_refunded, "Ayu's ticket refunded")
        assert statuses[by_email[emails[0]]["id"]] == "active"
        assert statuses[budi["id"]] == "active"
