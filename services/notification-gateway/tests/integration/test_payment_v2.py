"""Payment events v2 through the broker: a declined card, refunds that moved, v2 read as v1."""

import uuid
from typing import Any

from ticketing_contracts import (
    PaymentDeclined,
    PaymentPendingV2,
    PaymentRefundedV2,
    PaymentRefundUpdated,
    new_event,
)

Gateway = Any


def _facts(user: str, email: str) -> dict[str, Any]:
    return {
        "order_id": f"TKT-{uuid.uuid4()}",
        "ticket_id": str(uuid.uuid4()),
        "event_id": str(uuid.uuid4()),
        "user_id": user,
        "amount": 150000,
        "payment_type": "credit_card",
        "customer_name": "Siti Rahma",
        "customer_email": email,
        "event_title": "Jakarta Jazz Night",
        "event_starts_at": "2026-12-20T19:00:00+07:00",
    }


async def _register(gateway: Gateway, user: str) -> str:
    token = f"ok-{uuid.uuid4().hex}"
    response = await gateway.client.post(
        "/notifications/devices",
        json={"token": token, "platform": "android"},
        headers=gateway.auth(user),
    )
    assert response.status_code == 201, response.text
    return token


def _buyer() -> tuple[str, str]:
    user = f"user-{uuid.uuid4().hex[:8]}"
    return user, f"{user}@example.id"


async def test_a_declined_card_is_told_by_push_and_stream_in_english_by_preference(
    gateway: Gateway,
) -> None:
    user, email = _buyer()
    token = await _register(gateway, user)
    chosen = await gateway.client.put(
        "/notifications/preferences", json={"language": "en"}, headers=gateway.auth(user)
    )
    assert chosen.status_code == 200, chosen.text
    declined = new_event(
        PaymentDeclined(
            **_facts(user, email), sequence=2, payment_status="pending", reason="Do not honour"
        ),
        producer="payment-service",
    )

    async with gateway.sse(user) as stream:
        await gateway.publish(declined)
        seen = await stream.next()

    assert seen.event == "payment.declined"
    assert seen.json()["title"] == "Payment declined, please try again: Jakarta Jazz Night"
    deliveries = await gateway.settled(declined.event_id, count=2)
    assert {(d["channel"], d["status"]) for d in deliveries} == {
        ("push", "sent"),
        ("stream", "sent"),
    }
    [push] = gateway.fcm.for_token(token)
    assert push["body"]["message"]["data"]["event_type"] == "payment.declined"
    assert await gateway.mails_to(email) == []


async def test_a_v2_payment_event_is_notified_like_v1(gateway: Gateway) -> None:
    user, email = _buyer()
    pending = new_event(
        PaymentPendingV2(
            **_facts(user, email),
            sequence=1,
            payment_status="pending",
            instructions={"va_numbers": [{"bank": "bni", "va_number": "9882406011"}]},  # type: ignore[arg-type]
        ),
        producer="payment-service",
    )

    await gateway.publish(pending)

    [mail] = await gateway.wait_for(lambda: gateway.mails_to(email))
    assert mail["subject"] == "Selesaikan pembayaran: Jakarta Jazz Night"
    assert "9882406011" in mail["text"]


async def test_a_payout_refund_asks_for_the_account_and_the_money_back_is_mailed_once(
    gateway: Gateway,
) -> None:
    user, email = _buyer()
    facts = {**_facts(user, email), "payment_type": "bank_transfer"}
    refund = {
        **facts,
        "refund_id": str(uuid.uuid4()),
        "refund_amount": 150000,
        "method": "payout",
        "reason": "event cancelled by the host",
    }
    requested = new_event(
        PaymentRefundUpdated(
            **refund, sequence=3, payment_status="settled", refund_status="requested"
        ),
        producer="payment-service",
    )
    awaiting = new_event(
        PaymentRefundUpdated(
            **refund, sequence=4, payment_status="settled", refund_status="awaiting_payout"
        ),
        producer="payment-service",
    )

    await gateway.publish(requested)
    await gateway.publish(awaiting)

    await gateway.settled(awaiting.event_id, count=2)  # e-mail and stream (no device)
    assert await gateway.deliveries(requested.event_id) == []
    [mail] = await gateway.mails_to(email)
    assert mail["subject"] == "Kirim rekening bank Anda untuk pengembalian dana: Jakarta Jazz Night"

    paid_out = new_event(
        PaymentRefundUpdated(
            **refund,
            sequence=5,
            payment_status="refunded",
            refund_status="paid_out",
            reference="BCA-TRF-0042",
        ),
        producer="payment-service",
    )
    # A v2 payment.refunded of the same money (an API refund says it twice): one e-mail.
    refunded = new_event(
        PaymentRefundedV2(
            **facts,
            refund_amount=150000,
            refunded_total=150000,
            fully_refunded=True,
            transaction_status="refund",
            sequence=6,
            payment_status="refunded",
        ),
        producer="payment-service",
    )
    await gateway.publish(paid_out)
    await gateway.publish(refunded)

    await gateway.settled(paid_out.event_id, count=2)
    await gateway.settled(refunded.event_id, count=1)  # its stream entry; the e-mail was told
    mails = await gateway.mails_to(email)
    assert len(mails) == 2
    assert "BCA-TRF-0042" in next(m for m in mails if m["subject"].startswith("Dana sudah"))["text"]
    listed = await gateway.client.get("/notifications", headers=gateway.auth(user))
    assert sorted(n["event_type"] for n in listed.json()["data"]) == [
        "payment.refund_updated",
        "payment.refund_updated",
        "payment.refunded",
    ]
