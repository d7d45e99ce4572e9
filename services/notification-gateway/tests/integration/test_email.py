"""E-mail on the real path: RabbitMQ -> inbox -> delivery log -> SMTP -> the mail sink."""

import asyncio
import uuid
from typing import Any

from notification_gateway.adapters.qr import qr_png

Gateway = Any


async def test_activated_ticket_sends_one_email_with_the_qr_even_when_delivered_three_times(
    gateway: Gateway,
) -> None:
    event = gateway.activated()
    email = event.payload["holder_email"]

    await asyncio.gather(*(gateway.publish(event) for _ in range(3)))

    [mail] = await gateway.wait_for(lambda: gateway.mails_to(email))
    deliveries = await gateway.settled(event.event_id, count=2)  # e-mail + stream, no device
    await gateway.publish(event)  # and once more, long after the first was handled
    await asyncio.sleep(0.5)  # room for a wrongly repeated send to show up
    assert len(await gateway.mails_to(email)) == 1
    assert len(await gateway.deliveries(event.event_id)) == 2
    assert sorted((d["channel"], d["status"], d["attempts"]) for d in deliveries) == [
        ("email", "sent", 1),
        ("stream", "sent", 1),
    ]
    assert mail["subject"] == "E-tiket Anda: Jakarta Jazz Night"
    for expected in (
        "Jakarta Jazz Night",
        "Minggu, 20 Desember 2026 pukul 19.00 WIB",  # 12:00 UTC in Jakarta
        "Istora Senayan",
        "Siti Rahma",
        "K7P3",
        "Rp150.000",
        event.payload["order_id"],
    ):
        assert expected in mail["text"], expected
        assert expected in mail["html"], expected
    [qr] = mail["attachments"]
    assert qr["content_type"] == "image/png"
    assert qr["disposition"] == "inline"
    assert f"cid:{qr['content_id']}" in mail["html"]
    png = await gateway.sink.get(f"/messages/{mail['id']}/parts/{qr['index']}")
    assert png.content == qr_png(event.payload["qr_payload"])
    assert mail["headers"]["content-language"] == "id"


async def test_a_user_who_chose_english_gets_the_e_ticket_in_english(gateway: Gateway) -> None:
    user = f"user-{uuid.uuid4().hex[:8]}"
    response = await gateway.client.put(
        "/notifications/preferences", json={"language": "en"}, headers=gateway.auth(user)
    )
    assert response.json() == {"data": {"language": "en"}}
    event = gateway.activated(user_id=user)

    await gateway.publish(event)

    [mail] = await gateway.wait_for(lambda: gateway.mails_to(event.payload["holder_email"]))
    assert mail["subject"] == "Your e-ticket: Jakarta Jazz Night"
    assert "Sunday, 20 December 2026, 19:00 WIB" in mail["text"]
    assert "Attendance code" in mail["html"]
    assert mail["headers"]["content-language"] == "en"


async def test_temporary_smtp_failures_are_retried_until_the_mail_goes_through(
    gateway: Gateway,
) -> None:
    event = gateway.activated()
    email = event.payload["holder_email"]
    await gateway.sink.post("/control/failures", json={"code": 451, "count": 2, "recipient": email})

    await gateway.publish(event)

    [mail] = await gateway.wait_for(lambda: gateway.mails_to(email))
    rows = await gateway.settled(event.event_id, count=2)
    [email_delivery] = [r for r in rows if r["channel"] == "email"]
    assert email_delivery["status"] == "sent"
    assert email_delivery["attempts"] == 3
    assert mail["subject"].startswith("E-tiket Anda")


async def test_a_failing_smtp_server_is_retried_then_the_failure_is_recorded(
    gateway: Gateway,
) -> None:
    event = gateway.activated()
    email = event.payload["holder_email"]
    await gateway.sink.post(
        "/control/failures",
        json={"code": 421, "count": 100, "recipient": email, "message": "Service not available"},
    )

    await gateway.publish(event)

    rows = await gateway.settled(event.event_id, count=2)
    [email_delivery] = [r for r in rows if r["channel"] == "email"]
    [stream_delivery] = [r for r in rows if r["channel"] == "stream"]
    assert email_delivery["status"] == "failed"
    assert email_delivery["attempts"] == gateway.settings.delivery_max_attempts
    assert "gave up after 3 attempts" in email_delivery["last_error"]
    assert "421" in email_delivery["last_error"]
    assert stream_delivery["status"] == "sent"  # the failing channel held nothing back
    rules = (await gateway.sink.get("/control/failures")).json()["data"]
    assert [r["answered"] for r in rules if r["recipient"] == email] == [3]
    assert await gateway.mails_to(email) == []


async def test_a_permanent_smtp_refusal_is_recorded_without_retrying(gateway: Gateway) -> None:
    event = gateway.activated()
    email = event.payload["holder_email"]
    await gateway.sink.post(
        "/control/failures",
        json={"code": 550, "count": 5, "recipient": email, "message": "No such mailbox"},
    )

    await gateway.publish(event)

    rows = await gateway.settled(event.event_id, count=2)
    [email_delivery] = [r for r in rows if r["channel"] == "email"]
    assert email_delivery["status"] == "failed"
    assert email_delivery["attempts"] == 1
    assert "550" in email_delivery["last_error"]
