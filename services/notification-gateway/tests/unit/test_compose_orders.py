"""Issue 14: an activated order tells the buyer once and each other attendee by e-mail; the
buyer's e-mail of a paid order carries its receipt (issue 16)."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from notification_gateway.adapters.email import render_email
from notification_gateway.domain.model import Audience, Channel
from notification_gateway.domain.receipts import Receipt
from notification_gateway.service_layer.compose import (
    addressed_to,
    compose,
    public_data,
    receipt_wanted,
    recipients,
)
from notification_gateway.service_layer.order_messages import with_receipt
from rendered_mail import parsed
from ticketing_contracts import (
    EventEnvelope,
    OrderActivated,
    TicketActivated,
    TicketActivatedV2,
    parse_payload,
)

BUYER = "Siti@Example.id"


def ticket(n: int, email: str, name: str, kind: str = "Festival A") -> dict[str, Any]:
    return {
        "ticket_id": f"t-{n}",
        "attendance_code": f"K7P{n}",
        "holder_name": name,
        "holder_email": email,
        "ticket_type_id": kind.lower(),
        "ticket_type_name": kind,
        "price_paid": 135_000,
        "qr_payload": f"TKT1.t-{n}.K7P{n}.k1.c2ln",
    }


def an_order(*tickets: dict[str, Any]) -> OrderActivated:
    return OrderActivated(
        purchase_order_id="po-1",
        order_id="TIX-1",
        event_id="e-1",
        user_id="user-42",
        customer_name="Siti Rahma",
        customer_email=BUYER,
        total=375_000,
        discount=30_000,
        promo_code="HEMAT10",
        event_title="Jakarta Jazz Night",
        event_starts_at=datetime(2026, 12, 20, 12, 0, tzinfo=UTC),
        event_venue="Istora Senayan",
        activated_at=datetime(2026, 12, 1, tzinfo=UTC),
        tickets=list(tickets),
    )


ORDER = an_order(
    ticket(1, "siti@example.id ", "Siti Rahma"),
    ticket(2, "budi@example.id", "Budi", "VIP"),
    ticket(3, "BUDI@example.id", "Budi"),
    ticket(4, "ayu@example.id", "Ayu"),
)


def test_the_buyer_hears_on_every_channel_and_each_other_attendee_once_by_e_mail() -> None:
    people = recipients(ORDER)
    assert [(p.user_id, p.email, p.channels) for p in people] == [
        ("user-42", BUYER, frozenset({Channel.EMAIL, Channel.PUSH, Channel.STREAM})),
        ("attendee:budi@example.id", "budi@example.id", frozenset({Channel.EMAIL})),
        ("attendee:ayu@example.id", "ayu@example.id", frozenset({Channel.EMAIL})),
    ]


def test_the_buyer_s_e_mail_holds_every_e_ticket_each_with_its_own_qr() -> None:
    message = compose(ORDER, Audience.HOLDER, "id", recipient_id="user-42")
    assert message.title == "4 e-tiket Anda: Jakarta Jazz Night"
    assert [t.qr_payload for t in message.tickets] == [t.qr_payload for t in ORDER.tickets]
    assert message.tickets[1].heading == "Tiket 2 dari 4 · VIP"
    assert dict(message.tickets[1].details)["Kode kehadiran"] == "K7P2"
    details = dict(message.details)
    assert (details["Dibayar"], details["Diskon"]) == ("Rp375.000", "Rp30.000 (HEMAT10)")
    assert "K7P1, K7P2, K7P3, K7P4" in message.body


def test_an_attendee_s_copy_holds_only_their_tickets_and_no_prices() -> None:
    budi = addressed_to(ORDER, "attendee:budi@example.id")
    assert isinstance(budi, OrderActivated)
    assert [t.ticket_id for t in budi.tickets] == ["t-2", "t-3"]
    message = compose(budi, Audience.HOLDER, "en", recipient_id="attendee:budi@example.id")
    assert message.title == "Your 2 e-tickets: Jakarta Jazz Night"
    assert message.greeting == "Hello Budi,"
    assert "Siti Rahma booked" in message.paragraphs[0]
    assert all("Price" not in dict(t.details) for t in message.tickets)
    assert addressed_to(ORDER, "user-42") is ORDER


def test_an_order_of_one_ticket_reads_like_the_e_ticket_of_today() -> None:
    message = compose(an_order(ticket(1, BUYER, "Siti Rahma")), Audience.HOLDER, "id")
    assert message.title == "E-tiket Anda: Jakarta Jazz Night"
    assert len(message.tickets) == 1


def test_the_signed_qr_codes_stay_out_of_push_and_the_stream() -> None:
    data = public_data(ORDER)
    assert "TKT1" not in str(data)
    assert data["purchase_order_id"] == "po-1"


def test_a_ticket_activated_with_its_order_sends_nothing_of_its_own_and_v1_keeps_its_e_ticket() -> (
    None
):
    facts: dict[str, Any] = {
        "ticket_id": "t-1",
        "event_id": "e-1",
        "user_id": "user-42",
        "attendance_code": "K7P1",
        "holder_name": "Siti Rahma",
        "holder_email": BUYER,
        "event_title": "Jakarta Jazz Night",
        "event_starts_at": datetime(2026, 12, 20, 12, 0, tzinfo=UTC),
        "price_paid": 135_000,
        "activated_at": datetime(2026, 12, 1, tzinfo=UTC),
        "qr_payload": "TKT1.t-1",
    }
    assert recipients(TicketActivatedV2(**facts, purchase_order_id="po-1", order_size=4)) == []
    assert len(recipients(TicketActivatedV2(**facts))) == 1  # v2 outside an order
    assert len(recipients(TicketActivated(**facts))) == 1


def test_a_ticket_transferred_out_of_an_order_e_tickets_its_new_holder() -> None:
    moved = TicketActivatedV2(
        ticket_id="t-2",
        event_id="e-1",
        user_id="receiver-7",
        attendance_code="M4XQ",
        holder_name="Budi",
        holder_email="budi@example.id",
        event_title="Jakarta Jazz Night",
        event_starts_at=datetime(2026, 12, 20, 12, 0, tzinfo=UTC),
        price_paid=135_000,
        activated_at=datetime(2026, 12, 5, tzinfo=UTC),
        qr_payload="TKT1.t-2.M4XQ.k1.c2ln",
        purchase_order_id="po-1",
        order_size=3,
        transferred=True,
    )
    [receiver] = recipients(moved)
    assert (receiver.user_id, receiver.email) == ("receiver-7", "budi@example.id")
    assert compose(moved, receiver.audience, "id").qr_payload == moved.qr_payload


def test_the_order_e_mail_carries_one_inline_qr_image_per_ticket() -> None:
    message = compose(ORDER, Audience.HOLDER, "id")
    email = parsed(
        render_email(
            message, language="id", sender="tiket@example.id", recipient=BUYER, message_key="k"
        )
    )
    html = email.get_body(preferencelist=("html",))
    assert html is not None
    images = [p for p in email.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 4
    cids = {str(p["Content-ID"]).strip("<>") for p in images}
    assert len(cids) == 4
    body = html.get_content()
    assert all(f"cid:{cid}" in body for cid in cids)
    text = email.get_body(preferencelist=("plain",))
    assert text is not None and "Tiket 4 dari 4" in text.get_content()


def test_only_the_buyer_of_a_paid_order_gets_a_receipt() -> None:
    assert receipt_wanted(ORDER, "user-42") == "po-1"
    assert receipt_wanted(ORDER, "attendee:budi@example.id") is None
    free = ORDER.model_copy(update={"total": 0, "discount": 0})
    assert receipt_wanted(free, "user-42") is None


def test_the_receipt_is_a_pdf_attachment_beside_the_e_tickets_named_by_its_number() -> None:
    receipt = Receipt(number="KW/2026/000042", pdf=b"%PDF-1.3 kwitansi")
    message = with_receipt(compose(ORDER, Audience.HOLDER, "id"), receipt, "id")
    email = parsed(
        render_email(
            message, language="id", sender="tiket@example.id", recipient=BUYER, message_key="k"
        )
    )
    assert email.get_content_type() == "multipart/mixed"
    assert email["Content-Language"] == "id"
    (pdf,) = email.iter_attachments()
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_content_disposition() == "attachment"
    assert pdf.get_filename() == "kwitansi-KW-2026-000042.pdf"
    assert pdf.get_content() == receipt.pdf
    # The e-tickets' QR images stay inline in the HTML, not attachments.
    images = [p for p in email.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 4 and all(p.get_content_disposition() == "inline" for p in images)
    text = email.get_body(preferencelist=("plain",))
    assert text is not None
    assert "Kwitansi pembayaran Anda (KW/2026/000042) terlampir sebagai PDF." in text.get_content()
    english = with_receipt(compose(ORDER, Audience.HOLDER, "en"), receipt, "en")
    assert english.attachments[0].filename == "receipt-KW-2026-000042.pdf"


def test_payment_events_v3_and_refund_updates_v2_read_like_their_first_versions() -> None:
    samples = Path(__file__).resolve().parents[4] / "libs" / "contracts" / "samples"

    def read(name: str) -> Any:
        return parse_payload(EventEnvelope.model_validate_json((samples / name).read_text()))

    for kind in ("payment.pending", "payment.failed", "payment.refunded"):
        old, new = read(f"{kind}.v1.json"), read(f"{kind}.v3.json")
        assert [r.email for r in recipients(new)] == [r.email for r in recipients(old)], kind
        title = compose(old, Audience.HOLDER, "id").title
        assert compose(new, Audience.HOLDER, "id").title == title, kind
    update = read("payment.refund_updated.v2.json")
    assert recipients(update) == recipients(read("payment.refund_updated.v1.json"))
