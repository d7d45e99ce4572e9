"""Issue 14 on the real path: order.activated -> one e-mail to the buyer with every e-ticket,
one to each other attendee, one push and one stream entry for the buyer; redelivery changes
nothing; a ticket.activated of the order sends nothing of its own."""

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from notification_gateway.adapters.qr import qr_png
from ticketing_contracts import EventEnvelope, OrderActivated, TicketActivatedV2, new_event

Gateway = Any


def an_order(tag: str, user_id: str) -> EventEnvelope:
    buyer, friend = f"siti-{tag}@example.id", f"budi-{tag}@example.id"

    def ticket(n: int, email: str, name: str) -> dict[str, Any]:
        ticket_id = str(uuid.uuid4())
        return {
            "ticket_id": ticket_id,
            "attendance_code": f"Q{n}{tag[:2].upper()}",
            "holder_name": name,
            "holder_email": email,
            "ticket_type_name": "VIP" if n == 1 else "Reguler",
            "price_paid": 100_000,
            "qr_payload": f"TKT1.{ticket_id}.Q{n}.k1.c2ln",
        }

    order = OrderActivated(
        purchase_order_id=f"po-{tag}",
        order_id=f"TIX-{tag}",
        event_id=str(uuid.uuid4()),
        user_id=user_id,
        customer_name="Siti Rahma",
        customer_email=buyer,
        total=300_000,
        event_title="Jakarta Jazz Night",
        event_starts_at=datetime(2026, 12, 20, 12, 0, tzinfo=UTC),
        event_venue="Istora Senayan",
        activated_at=datetime.now(UTC),
        tickets=[
            ticket(1, buyer, "Siti Rahma"),
            ticket(2, friend, "Budi"),
            ticket(3, buyer, "Ayu"),
        ],
    )
    return new_event(order, producer="ticket-service")


async def test_an_order_is_one_e_mail_to_the_buyer_with_every_e_ticket_and_one_to_the_friend(
    gateway: Gateway,
) -> None:
    tag = uuid.uuid4().hex[:10]
    user = f"user-{tag}"
    token = f"device-{tag}"
    registered = await gateway.client.post(
        "/notifications/devices",
        json={"token": token, "platform": "android"},
        headers=gateway.auth(user),
    )
    assert registered.status_code == 201, registered.text
    envelope = an_order(tag, user)
    order = envelope.payload
    buyer, friend = order["customer_email"], order["tickets"][1]["holder_email"]
    # The order's ticket.activated events (v2, with the order) come first, from the same
    # transaction: they must not send an e-ticket of their own.
    for t in order["tickets"]:
        await gateway.publish(
            new_event(
                TicketActivatedV2(
                    ticket_id=t["ticket_id"],
                    event_id=order["event_id"],
                    user_id=user,
                    order_id=order["order_id"],
                    attendance_code=t["attendance_code"],
                    holder_name=t["holder_name"],
                    holder_email=t["holder_email"],
                    event_title=order["event_title"],
                    event_starts_at=order["event_starts_at"],
                    price_paid=t["price_paid"],
                    activated_at=order["activated_at"],
                    qr_payload=t["qr_payload"],
                    purchase_order_id=order["purchase_order_id"],
                    order_size=3,
                ),
                producer="ticket-service",
            )
        )
    await asyncio.gather(*(gateway.publish(envelope) for _ in range(3)))

    [to_buyer] = await gateway.wait_for(lambda: gateway.mails_to(buyer))
    [to_friend] = await gateway.wait_for(lambda: gateway.mails_to(friend))
    # buyer: e-mail, stream, one push; friend: e-mail only
    deliveries = await gateway.settled(envelope.event_id, count=4)
    await gateway.publish(envelope)  # once more, long after
    await asyncio.sleep(0.5)
    assert len(await gateway.mails_to(buyer)) == 1
    assert len(await gateway.mails_to(friend)) == 1
    assert len(await gateway.deliveries(envelope.event_id)) == 4
    assert sorted((d["channel"], d["target"], d["status"]) for d in deliveries) == sorted(
        [
            ("email", buyer, "sent"),
            ("email", friend, "sent"),
            ("push", token, "sent"),
            ("stream", user, "sent"),
        ]
    )
    assert len(gateway.fcm.for_token(token)) == 1

    assert to_buyer["subject"] == "3 e-tiket Anda: Jakarta Jazz Night"
    images = [a for a in to_buyer["attachments"] if a["content_type"] == "image/png"]
    assert len(images) == 3
    drawn = {
        (await gateway.sink.get(f"/messages/{to_buyer['id']}/parts/{a['index']}")).content
        for a in images
    }
    assert drawn == {qr_png(t["qr_payload"]) for t in order["tickets"]}
    for t in order["tickets"]:
        assert t["attendance_code"] in to_buyer["text"] and t["attendance_code"] in to_buyer["html"]
    assert all(f"cid:{a['content_id']}" in to_buyer["html"] for a in images)

    assert to_friend["subject"] == "E-tiket Anda: Jakarta Jazz Night"
    [qr] = to_friend["attachments"]
    friend_png = await gateway.sink.get(f"/messages/{to_friend['id']}/parts/{qr['index']}")
    assert friend_png.content == qr_png(order["tickets"][1]["qr_payload"])
    assert order["tickets"][0]["attendance_code"] not in to_friend["text"]
    assert "Rp" not in to_friend["text"]  # what the buyer paid is the buyer's business

    listed = await gateway.client.get("/notifications", headers=gateway.auth(user))
    kinds = [n["event_type"] for n in listed.json()["data"]]
    assert kinds == ["order.activated"]  # told once per order
