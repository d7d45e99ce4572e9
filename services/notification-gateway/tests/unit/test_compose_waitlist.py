"""A waiting-list offer (issue 16): the user hears of it by e-mail, push and stream, in time."""

from pathlib import Path

from notification_gateway.adapters.email import render_email
from notification_gateway.domain.model import Audience, Channel
from notification_gateway.service_layer.compose import compose, public_data, recipients
from rendered_mail import parsed
from ticketing_contracts import EventEnvelope, WaitlistOffered, parse_payload

SAMPLE = Path(__file__).resolve().parents[4] / "libs/contracts/samples/waitlist.offered.v1.json"


def offered() -> WaitlistOffered:
    payload = parse_payload(EventEnvelope.model_validate_json(SAMPLE.read_text()))
    assert isinstance(payload, WaitlistOffered)
    return payload


def test_the_offered_user_is_told_on_every_channel_once_per_offer() -> None:
    (recipient,) = recipients(offered())
    assert recipient.user_id == "user-42" and recipient.audience == Audience.HOLDER
    assert recipient.email == "siti@example.id"
    assert recipient.channels == {Channel.EMAIL, Channel.PUSH, Channel.STREAM}
    assert recipient.collapse_key == "waitlist-offer:2f7b1c9d-3e4a-4b5c-8d6e-7f8091a2b3c4"


def test_the_offer_says_how_many_seats_what_they_cost_and_until_when_in_indonesian() -> None:
    message = compose(offered(), Audience.HOLDER, "id")
    assert message.title == "Kursi untuk Anda: Jakarta Jazz Night"
    assert dict(message.details) == {
        "Acara": "Jakarta Jazz Night",
        "Waktu": "Minggu, 20 Desember 2026 pukul 19.00 WIB",
        "Jenis tiket": "Festival A",
        "Jumlah kursi": "2",
        "Total": "Rp300.000",
        "Berlaku sampai": "Selasa, 1 Desember 2026 pukul 10.35 WIB",
    }
    assert "orang berikutnya" in " ".join(message.paragraphs)


def test_the_offer_reads_in_english_and_the_app_gets_the_offer_id() -> None:
    message = compose(offered(), Audience.HOLDER, "en")
    assert message.title == "Seats for you: Jakarta Jazz Night"
    assert "until Tuesday, 1 December 2026, 10:35 WIB" in message.body
    assert public_data(offered())["offer_id"] == "2f7b1c9d-3e4a-4b5c-8d6e-7f8091a2b3c4"


def test_the_offer_e_mail_renders() -> None:
    email = parsed(
        render_email(
            compose(offered(), Audience.HOLDER, "id"),
            language="id",
            sender="tiket@example.id",
            recipient="siti@example.id",
            message_key="waitlist-offer-1",
        )
    )
    assert email["Subject"] == "Kursi untuk Anda: Jakarta Jazz Night"
    assert "Rp300.000" in email.get_body(("plain",)).get_content()  # type: ignore[union-attr]
