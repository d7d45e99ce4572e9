"""The other events: payment instructions, a hold that ended (told once), refunds, check-in."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from ticketing_contracts import (
    PaymentFailed,
    PaymentPending,
    PaymentRefunded,
    PaymentSettled,
    TicketCheckedIn,
    TicketExpired,
    new_event,
)

Gateway = Any


def _payment_facts(user: str, email: str, ticket_id: str) -> dict[str, Any]:
    return {
        "order_id": f"TIX-{uuid.uuid4().hex[:8]}",
        "ticket_id": ticket_id,
        "event_id": str(uuid.uuid4()),
        "user_id": user,
        "amount": 150000,
        "payment_type": "bank_transfer",
        "customer_name": "Siti Rahma",
        "customer_email": email,
        "event_title": "Jakarta Jazz Night",
        "event_starts_at": "2026-12-20T19:00:00+07:00",
    }


def _fresh(gateway: Gateway) -> tuple[str, str, dict[str, Any]]:
    ticket = gateway.activated().payload
    return ticket["user_id"], ticket["holder_email"], ticket


async def test_payment_pending_mails_the_va_number_and_the_deadline(gateway: Gateway) -> None:
    user, email, ticket = _fresh(gateway)
    pending = new_event(
        PaymentPending.model_validate(
            {
                **_payment_facts(user, email, ticket["ticket_id"]),
                "expires_at": "2026-12-01T10:15:00+07:00",
                "instructions": {"va_numbers": [{"bank": "bca", "va_number": "82406011792"}]},
            }
        ),
        producer="payment-service",
    )

    await gateway.publish(pending)

    [mail] = await gateway.wait_for(lambda: gateway.mails_to(email))
    assert mail["subject"] == "Selesaikan pembayaran: Jakarta Jazz Night"
    for expected in ("BCA", "82406011792", "Rp150.000", "Selasa, 1 Desember 2026 pukul 10.15 WIB"):
        assert expected in mail["text"], expected
    assert mail["attachments"] == []


async def test_a_hold_that_ended_is_mailed_once_though_two_events_say_so(
    gateway: Gateway,
) -> None:
    user, email, ticket = _fresh(gateway)
    expired = new_event(
        TicketExpired.model_validate({**ticket, "expired_at": datetime.now(UTC).isoformat()}),
        producer="ticket-service",
    )
    failed = new_event(
        PaymentFailed.model_validate(
            {**_payment_facts(user, email, ticket["ticket_id"]), "transaction_status": "expire"}
        ),
        producer="payment-service",
    )

    await gateway.publish(expired)
    await gateway.publish(failed)

    async def both_told() -> list[Any] | None:
        rows = [
            *await gateway.deliveries(expired.event_id),
            *await gateway.deliveries(failed.event_id),
        ]
        finished = len(rows) == 3 and all(r["status"] == "sent" for r in rows)
        return rows if finished else None

    rows = await gateway.wait_for(both_told)  # two stream entries, one e-mail between them
    assert sorted(r["channel"] for r in rows) == ["email", "stream", "stream"]
    mails = await gateway.mails_to(email)
    assert len(mails) == 1
    assert "Tidak ada dana yang ditagih" in mails[0]["text"]
    listed = await gateway.client.get("/notifications", headers=gateway.auth(user))
    assert sorted(n["event_type"] for n in listed.json()["data"]) == [
        "payment.failed",
        "ticket.expired",
    ]


async def test_refund_and_check_in_reach_the_holder_and_settled_is_left_to_activation(
    gateway: Gateway,
) -> None:
    user, email, ticket = _fresh(gateway)
    facts = _payment_facts(user, email, ticket["ticket_id"])
    settled = new_event(
        PaymentSettled.model_validate({**facts, "settled_at": datetime.now(UTC).isoformat()}),
        producer="payment-service",
    )
    refunded = new_event(
        PaymentRefunded.model_validate(
            {
                **facts,
                "refund_amount": 150000,
                "refunded_total": 150000,
                "fully_refunded": True,
                "transaction_status": "refund",
            }
        ),
        producer="payment-service",
    )
    checked_in = new_event(
        TicketCheckedIn.model_validate(
            {
                **ticket,
                "checked_in_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
                "checked_in_by": "host-7",
            }
        ),
        producer="ticket-service",
    )

    async with gateway.sse(user) as stream:
        for event in (settled, refunded, checked_in):
            await gateway.publish(event)
        first, second = await stream.next(), await stream.next()

    assert {first.event, second.event} == {"payment.refunded", "ticket.checked_in"}
    await gateway.settled(refunded.event_id, count=2)
    assert await gateway.deliveries(settled.event_id) == []
    [mail] = await gateway.mails_to(email)
    assert mail["subject"] == "Dana dikembalikan: Jakarta Jazz Night"
    checked = await gateway.settled(checked_in.event_id, count=1)  # no e-mail for a check-in
    assert checked[0]["channel"] == "stream"
