"""Issue 16 on the real path: the buyer's order e-mail carries the receipt PDF that the delivery
job fetched from ticket-service (a stand-in over HTTP checking the service token); the friend's
e-mail does not; while ticket-service answers 503 the e-mail waits, and after the last attempt the
e-tickets go without the receipt."""

import uuid
from datetime import UTC, datetime
from typing import Any

from ticketing_contracts import EventEnvelope, OrderActivated, OrderTicket, new_event

Gateway = Any


def an_order(tag: str, user_id: str, *, friend: bool = False) -> EventEnvelope:
    buyer = f"siti-{tag}@example.id"

    def ticket(n: int, email: str, name: str) -> OrderTicket:
        ticket_id = str(uuid.uuid4())
        return OrderTicket(
            ticket_id=ticket_id,
            attendance_code=f"R{n}{tag[:2].upper()}",
            holder_name=name,
            holder_email=email,
            price_paid=150_000,
            qr_payload=f"TKT1.{ticket_id}.R{n}.k1.c2ln",
        )

    tickets = [ticket(1, buyer, "Siti Rahma")]
    if friend:
        tickets.append(ticket(2, f"budi-{tag}@example.id", "Budi"))
    order = OrderActivated(
        purchase_order_id=str(uuid.uuid4()),
        order_id=f"TIX-{tag}",
        event_id=str(uuid.uuid4()),
        user_id=user_id,
        customer_name="Siti Rahma",
        customer_email=buyer,
        total=150_000 * len(tickets),
        event_title="Jakarta Jazz Night",
        event_starts_at=datetime(2026, 12, 20, 12, 0, tzinfo=UTC),
        event_venue="Istora Senayan",
        activated_at=datetime.now(UTC),
        tickets=tickets,
    )
    return new_event(order, producer="ticket-service")


def pdfs(mail: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in mail["attachments"] if a["content_type"] == "application/pdf"]


async def buyers_mail(gateway: Gateway, envelope: EventEnvelope) -> dict[str, Any]:
    [mail] = await gateway.wait_for(lambda: gateway.mails_to(envelope.payload["customer_email"]))
    return dict(mail)


async def test_the_buyers_e_mail_carries_the_receipt_and_the_friends_does_not(
    gateway: Gateway,
) -> None:
    tag = uuid.uuid4().hex[:10]
    envelope = an_order(tag, f"user-{tag}", friend=True)
    order = envelope.payload
    pdf = gateway.receipts.issue(order["purchase_order_id"], "KW/2026/000007")
    await gateway.publish(envelope)

    to_buyer = await buyers_mail(gateway, envelope)
    friend = order["tickets"][1]["holder_email"]
    [to_friend] = await gateway.wait_for(lambda: gateway.mails_to(friend))
    [attached] = pdfs(to_buyer)
    assert attached["filename"] == "kwitansi-KW-2026-000007.pdf"
    assert attached["disposition"] == "attachment"
    part = await gateway.sink.get(f"/messages/{to_buyer['id']}/parts/{attached['index']}")
    assert part.content == pdf
    assert "Kwitansi pembayaran Anda (KW/2026/000007) terlampir" in to_buyer["text"]
    assert len([a for a in to_buyer["attachments"] if a["content_type"] == "image/png"]) == 2
    assert pdfs(to_friend) == []
    assert gateway.receipts.asked_for(order["purchase_order_id"]) == [
        {"order_id": order["purchase_order_id"], "lang": "id", "caller": "notification-gateway"}
    ]


async def test_a_buyer_who_chose_english_gets_the_english_receipt(gateway: Gateway) -> None:
    tag = uuid.uuid4().hex[:10]
    user = f"user-{tag}"
    chosen = await gateway.client.put(
        "/notifications/preferences", json={"language": "en"}, headers=gateway.auth(user)
    )
    assert chosen.status_code == 200, chosen.text
    envelope = an_order(tag, user)
    order_id = envelope.payload["purchase_order_id"]
    gateway.receipts.issue(order_id, "KW/2026/000008")
    await gateway.publish(envelope)

    [attached] = pdfs(await buyers_mail(gateway, envelope))
    assert attached["filename"] == "receipt-KW-2026-000008.pdf"
    assert [r["lang"] for r in gateway.receipts.asked_for(order_id)] == ["en"]


async def test_an_order_without_a_receipt_is_mailed_without_one(gateway: Gateway) -> None:
    tag = uuid.uuid4().hex[:10]
    envelope = an_order(tag, f"user-{tag}")  # ticket-service answers 404 for it
    await gateway.publish(envelope)

    mail = await buyers_mail(gateway, envelope)
    assert pdfs(mail) == []
    assert len(gateway.receipts.asked_for(envelope.payload["purchase_order_id"])) == 1


async def test_while_ticket_service_is_down_the_e_mail_waits_for_its_receipt(
    gateway: Gateway,
) -> None:
    tag = uuid.uuid4().hex[:10]
    envelope = an_order(tag, f"user-{tag}")
    order_id = envelope.payload["purchase_order_id"]
    gateway.receipts.issue(order_id, "KW/2026/000009")
    gateway.receipts.unavailable[order_id] = 1
    await gateway.publish(envelope)

    mail = await buyers_mail(gateway, envelope)
    assert [a["filename"] for a in pdfs(mail)] == ["kwitansi-KW-2026-000009.pdf"]
    [email] = [d for d in await gateway.settled(envelope.event_id, 2) if d["channel"] == "email"]
    assert (email["status"], email["attempts"]) == ("sent", 2)
    assert len(gateway.receipts.asked_for(order_id)) == 2
    assert len(await gateway.mails_to(envelope.payload["customer_email"])) == 1


async def test_after_the_last_attempt_the_e_tickets_go_without_the_receipt(
    gateway: Gateway,
) -> None:
    tag = uuid.uuid4().hex[:10]
    envelope = an_order(tag, f"user-{tag}")
    order_id = envelope.payload["purchase_order_id"]
    gateway.receipts.issue(order_id, "KW/2026/000010")
    gateway.receipts.unavailable[order_id] = 100
    await gateway.publish(envelope)

    mail = await buyers_mail(gateway, envelope)
    assert pdfs(mail) == []
    assert envelope.payload["tickets"][0]["attendance_code"] in mail["text"]
    [email] = [d for d in await gateway.settled(envelope.event_id, 2) if d["channel"] == "email"]
    attempts = gateway.settings.delivery_max_attempts
    assert (email["status"], email["attempts"]) == ("sent", attempts)
    assert len(gateway.receipts.asked_for(order_id)) == attempts
