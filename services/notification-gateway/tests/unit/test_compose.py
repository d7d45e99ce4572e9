"""Who hears of each event, and what the message says, in Indonesian and English."""

from email.message import EmailMessage
from pathlib import Path

import pytest
from notification_gateway.adapters.email import render_email
from notification_gateway.adapters.push import classify
from notification_gateway.domain.model import (
    Audience,
    Channel,
    PermanentFailure,
    Sent,
    TemporaryFailure,
)
from notification_gateway.service_layer.compose import compose, public_data, recipients
from rendered_mail import parsed
from ticketing_contracts import EventEnvelope, EventPayload, parse_payload

SAMPLES = Path(__file__).resolve().parents[4] / "libs" / "contracts" / "samples"


def sample(event_type: str) -> EventPayload:
    envelope = EventEnvelope.model_validate_json((SAMPLES / f"{event_type}.v1.json").read_text())
    return parse_payload(envelope)


def test_the_e_ticket_has_every_detail_and_the_qr_in_indonesian_by_default() -> None:
    message = compose(sample("ticket.activated"), Audience.HOLDER, "id")

    assert message.title == "E-tiket Anda: Jakarta Jazz Night"
    details = dict(message.details)
    assert details == {
        "Acara": "Jakarta Jazz Night",
        "Waktu": "Minggu, 20 Desember 2026 pukul 19.00 WIB",
        "Tempat": "Istora Senayan",
        "Pemegang tiket": "Siti Rahma",
        "Kode kehadiran": "K7P3",
        "Nomor pesanan": "TIX-7d1f0c1e-1",
        "Dibayar": "Rp150.000",
    }
    assert message.qr_payload == "TKT1.7d1f0c1e-1b7a-4c8e-9f3e-2a4b5c6d7e8f.K7P3.k1.c2lnbmF0dXJl"


def test_the_e_ticket_reads_in_english_when_chosen() -> None:
    message = compose(sample("ticket.activated"), Audience.HOLDER, "en")
    assert message.title == "Your e-ticket: Jakarta Jazz Night"
    assert dict(message.details)["Time"] == "Sunday, 20 December 2026, 19:00 WIB"


def test_a_free_ticket_says_free_not_rp0() -> None:
    free = sample("ticket.activated").model_copy(update={"price_paid": 0})
    assert dict(compose(free, Audience.HOLDER, "id").details)["Dibayar"] == "Gratis"


def test_payment_pending_says_how_to_pay_and_by_when() -> None:
    message = compose(sample("payment.pending"), Audience.HOLDER, "id")
    text = " ".join(message.paragraphs)
    assert "Transfer ke virtual account BCA: 82406011792" in text
    assert "Selasa, 1 Desember 2026 pukul 10.15 WIB" in message.body
    assert "Rp150.000" in message.body


@pytest.mark.parametrize("event_type", ["ticket.expired", "payment.failed"])
def test_a_hold_that_ended_says_nothing_was_charged_and_collapses_per_ticket(
    event_type: str,
) -> None:
    payload = sample(event_type)
    message = compose(payload, Audience.HOLDER, "en")
    [recipient] = recipients(payload)
    assert "Nothing was charged." in message.body
    assert recipient.collapse_key == "hold-ended:7d1f0c1e-1b7a-4c8e-9f3e-2a4b5c6d7e8f"


def test_a_cancelled_ticket_tells_the_holder_and_the_host() -> None:
    payload = sample("ticket.cancelled")
    holder, host = recipients(payload)
    assert (holder.user_id, holder.audience, holder.email) == (
        "user-42",
        Audience.HOLDER,
        "siti@example.id",
    )
    assert (host.user_id, host.audience, host.email) == ("host-7", Audience.HOST, None)
    assert Channel.EMAIL not in host.channels
    assert compose(payload, Audience.HOST, "id").title == "Kursi dibatalkan: Jakarta Jazz Night"


def test_a_host_cancelling_their_own_ticket_is_told_once() -> None:
    payload = sample("ticket.cancelled").model_copy(update={"host_id": "user-42"})
    assert [r.audience for r in recipients(payload)] == [Audience.HOLDER]


def test_events_nobody_is_told_about_have_no_recipients() -> None:
    assert recipients(sample("payment.settled")) == []
    assert recipients(sample("ticket.refund_requested")) == []


def test_public_data_is_strings_only_and_keeps_the_qr_out() -> None:
    data = public_data(sample("ticket.activated"))
    assert "qr_payload" not in data
    assert all(isinstance(v, str) for v in data.values())
    assert data["price_paid"] == "150000"
    assert data["event_starts_at"] == "2026-12-20T19:00:00+07:00"
    assert "field_from_the_future" not in data  # the typed payload knows only its own fields


def test_the_email_has_text_and_html_and_the_qr_inline_with_user_text_escaped() -> None:
    payload = sample("ticket.activated").model_copy(update={"event_title": "<b>Jazz</b> & Co"})
    message = compose(payload, Audience.HOLDER, "id")

    email = parsed(
        render_email(
            message, language="id", sender="a@b.c", recipient="siti@example.id", message_key="k"
        )
    )

    assert email["Subject"] == "E-tiket Anda: <b>Jazz</b> & Co"
    text = email.get_body(("plain",))
    html = email.get_body(("html",))
    assert isinstance(text, EmailMessage)
    assert isinstance(html, EmailMessage)
    assert "Kode kehadiran  K7P3" in text.get_content()
    assert "&lt;b&gt;Jazz&lt;/b&gt; &amp; Co" in html.get_content()
    [image] = [p for p in email.walk() if p.get_content_type() == "image/png"]
    cid = str(image["Content-ID"]).strip("<>")
    assert f'src="cid:{cid}"' in html.get_content()
    assert image.get_payload(decode=True).startswith(b"\x89PNG")


def test_a_title_with_line_breaks_still_makes_a_valid_email_with_one_subject_line() -> None:
    title = "Jazz\r\nBcc: everyone@example.id\n\tNight"
    payload = sample("ticket.activated").model_copy(update={"event_title": title})
    message = compose(payload, Audience.HOLDER, "id")

    email = parsed(
        render_email(
            message, language="id", sender="a@b.c", recipient="siti@example.id", message_key="k"
        )
    )

    assert email["Subject"] == "E-tiket Anda: Jazz Bcc: everyone@example.id Night"
    assert email["Bcc"] is None
    assert "\r\nBcc:" not in email.as_string()


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (200, {"name": "projects/p/messages/1"}, Sent),
        (503, {"error": {"status": "UNAVAILABLE"}}, TemporaryFailure),
        (429, {"error": {"status": "RESOURCE_EXHAUSTED"}}, TemporaryFailure),
        (401, {"error": {"status": "UNAUTHENTICATED"}}, PermanentFailure),
        (404, {"error": {"status": "NOT_FOUND", "details": [{"errorCode": "UNREGISTERED"}]}},
         PermanentFailure),
        (400, {"error": {"status": "INVALID_ARGUMENT"}}, PermanentFailure),
    ],
)  # fmt: skip
def test_fcm_answers_decide_between_sent_retry_and_give_up(
    status: int, body: dict[str, object], outcome: type
) -> None:
    assert isinstance(classify(status, body), outcome)


def test_only_dead_token_answers_drop_the_device() -> None:
    unregistered = classify(404, {"error": {"details": [{"errorCode": "UNREGISTERED"}]}})
    unauthorised = classify(401, {"error": {"status": "UNAUTHENTICATED"}})
    assert isinstance(unregistered, PermanentFailure)
    assert unregistered.drop_device
    assert isinstance(unauthorised, PermanentFailure)
    assert not unauthorised.drop_device
