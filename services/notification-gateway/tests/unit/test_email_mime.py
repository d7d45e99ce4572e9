"""The hand-written MIME reads back, through the standard parser, as what was composed."""

from notification_gateway.adapters.email import render_email
from notification_gateway.domain.model import Attachment, ETicket, Message
from rendered_mail import parsed

PDF = b"%PDF-1.4 a receipt"


def a_message(**changes: object) -> Message:
    fields: dict[str, object] = {
        "title": "E-tiket Anda: Konser Dewa 19 — Jakarta",
        "body": "b",
        "greeting": "Halo Siti Rahmawati",
        "paragraphs": ("Tunjukkan kode ini di pintu.\nSampai jumpa!",),
        "details": (("Kode kehadiran", "K7P3"),),
        "tickets": (ETicket("Tiket 1", (("Kode", "K7P3"),), "TKT2.payload", "Pindai di pintu"),),
        "attachments": (Attachment("kwitansi-KW-2026-000042.pdf", "application/pdf", PDF),),
    }
    return Message(**{**fields, **changes})  # type: ignore[arg-type]


def test_non_ascii_headers_come_back_as_written() -> None:
    email = parsed(
        render_email(
            a_message(),
            language="id",
            sender="Tiket Ñusantara <no-reply@tiket.example.id>",
            recipient="siti@example.id",
            message_key="event-1.7",
        )
    )
    assert email["Subject"] == "E-tiket Anda: Konser Dewa 19 — Jakarta"
    assert email["From"].addresses[0].display_name == "Tiket Ñusantara"
    assert email["From"].addresses[0].addr_spec == "no-reply@tiket.example.id"
    assert email["To"] == "siti@example.id"
    assert email["Message-ID"] == "<event-1.7@notification-gateway>"
    assert email["Content-Language"] == "id"


def test_the_parts_nest_as_mail_clients_expect() -> None:
    email = parsed(
        render_email(a_message(), language="en", sender="a@b.c", recipient="x@y.z", message_key="k")
    )
    shape = [part.get_content_type() for part in email.walk()]
    assert shape == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
        "application/pdf",
    ]
    text = email.get_body(("plain",))
    assert text is not None and "Sampai jumpa!" in text.get_content()
    (pdf,) = email.iter_attachments()
    assert pdf.get_payload(decode=True) == PDF
    assert pdf.get_filename() == "kwitansi-KW-2026-000042.pdf"


def test_without_files_or_images_the_message_is_just_the_alternative() -> None:
    bare = a_message(tickets=(), attachments=())
    email = parsed(
        render_email(bare, language="id", sender="a@b.c", recipient="x@y.z", message_key="k")
    )
    assert [part.get_content_type() for part in email.walk()] == [
        "multipart/alternative",
        "text/plain",
        "text/html",
    ]


def test_a_file_name_beyond_ascii_survives() -> None:
    named = a_message(attachments=(Attachment("kwitansi-Ñ.pdf", "application/pdf", PDF),))
    email = parsed(
        render_email(named, language="id", sender="a@b.c", recipient="x@y.z", message_key="k")
    )
    (pdf,) = email.iter_attachments()
    assert pdf.get_filename() == "kwitansi-Ñ.pdf"
