"""An activated order (`order.activated`): who hears of it, and what each person reads.

The buyer gets one e-mail holding every e-ticket of the order (each with its own QR code), one
push and one stream entry. Each attendee whose e-mail differs from the buyer's gets one e-mail
with their own e-tickets only; attendees have no account here, so they get no push or stream.
The buyer's e-mail of a paid order carries its receipt (ticket-service's PDF) as an attachment.
"""

import re
from dataclasses import replace

from ticketing_contracts import OrderActivated, OrderTicket

from notification_gateway.domain.formatting import automatic_footer, rupiah, say, wib
from notification_gateway.domain.model import (
    Attachment,
    Audience,
    Channel,
    ETicket,
    Language,
    Message,
    Recipient,
)
from notification_gateway.domain.receipts import Receipt

ATTENDEE_PREFIX = "attendee:"
"""The notification's user_id for an attendee, who is known only by their e-mail address."""

_ALL = frozenset({Channel.EMAIL, Channel.PUSH, Channel.STREAM})
_EMAIL_ONLY = frozenset({Channel.EMAIL})


def address(email: str) -> str:
    return email.strip().lower()


def order_recipients(order: OrderActivated) -> list[Recipient]:
    """The buyer, then each attendee with an address of their own (once, however many tickets)."""
    buyer = address(order.customer_email)
    people = [Recipient(order.user_id, Audience.HOLDER, order.customer_email, _ALL)]
    for email in dict.fromkeys(address(t.holder_email) for t in order.tickets):
        if email != buyer:
            people.append(
                Recipient(f"{ATTENDEE_PREFIX}{email}", Audience.HOLDER, email, _EMAIL_ONLY)
            )
    return people


def order_for(order: OrderActivated, recipient_id: str) -> OrderActivated:
    """The order as this person sees it: an attendee's copy holds only their own tickets."""
    if not recipient_id.startswith(ATTENDEE_PREFIX):
        return order
    email = recipient_id.removeprefix(ATTENDEE_PREFIX)
    mine = [t for t in order.tickets if address(t.holder_email) == email]
    return order.model_copy(update={"tickets": mine})


def receipt_order_id(order: OrderActivated, recipient_id: str) -> str | None:
    """The order whose receipt goes with this person's e-mail: only the buyer's, and only when
    something was paid (a free order has no receipt)."""
    if recipient_id.startswith(ATTENDEE_PREFIX) or order.total <= 0:
        return None
    return order.purchase_order_id


def with_receipt(message: Message, receipt: Receipt, language: Language) -> Message:
    """The buyer's e-mail with the receipt attached (`kwitansi-KW-2026-000001.pdf`)."""
    name = say(language, "kwitansi", "receipt")
    attachment = Attachment(
        filename=f"{name}-{_file_name_safe(receipt.number)}.pdf",
        content_type="application/pdf",
        content=receipt.pdf,
    )
    told = say(
        language,
        f"Kwitansi pembayaran Anda ({receipt.number}) terlampir sebagai PDF.",
        f"Your receipt ({receipt.number}) is attached as a PDF.",
    )
    return replace(
        message,
        paragraphs=(*message.paragraphs, told),
        attachments=(*message.attachments, attachment),
    )


def _file_name_safe(text: str) -> str:
    # KW/2026/000001 -> KW-2026-000001: a slash (or anything else odd) has no place in a name.
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "receipt"


def order_message(
    order: OrderActivated, language: Language, *, recipient_id: str | None
) -> Message:
    if recipient_id is not None and recipient_id.startswith(ATTENDEE_PREFIX):
        return _for_attendee(order, language)
    return _for_buyer(order, language)


def _headline(order: OrderActivated, language: Language) -> str:
    count, title = len(order.tickets), order.event_title
    if count == 1:
        return say(language, f"E-tiket Anda: {title}", f"Your e-ticket: {title}")
    return say(language, f"{count} e-tiket Anda: {title}", f"Your {count} e-tickets: {title}")


def _event_rows(order: OrderActivated, language: Language) -> list[tuple[str, str]]:
    rows = [
        (say(language, "Acara", "Event"), order.event_title),
        (say(language, "Waktu", "Time"), wib(order.event_starts_at, language)),
    ]
    if order.event_venue:
        rows.append((say(language, "Tempat", "Venue"), order.event_venue))
    rows.append((say(language, "Nomor pesanan", "Order number"), order.purchase_order_id))
    return rows


def _e_tickets(order: OrderActivated, language: Language, *, prices: bool) -> tuple[ETicket, ...]:
    count = len(order.tickets)
    return tuple(
        _e_ticket(ticket, n, count, language, price=prices)
        for n, ticket in enumerate(order.tickets, start=1)
    )


def _e_ticket(t: OrderTicket, n: int, count: int, language: Language, *, price: bool) -> ETicket:
    kind = f" · {t.ticket_type_name}" if t.ticket_type_name else ""
    rows = [
        (say(language, "Pemegang tiket", "Ticket holder"), t.holder_name),
        (say(language, "Kode kehadiran", "Attendance code"), t.attendance_code),
    ]
    if t.ticket_type_name:
        rows.append((say(language, "Jenis tiket", "Ticket type"), t.ticket_type_name))
    if price:
        paid = rupiah(t.price_paid) if t.price_paid else say(language, "Gratis", "Free")
        rows.append((say(language, "Harga", "Price"), paid))
    return ETicket(
        heading=say(language, f"Tiket {n} dari {count}{kind}", f"Ticket {n} of {count}{kind}"),
        details=tuple(rows),
        qr_payload=t.qr_payload,
        qr_caption=say(
            language, f"Kode QR tiket {t.holder_name}", f"QR code of {t.holder_name}'s ticket"
        ),
    )


def _for_buyer(order: OrderActivated, language: Language) -> Message:
    count, title = len(order.tickets), order.event_title
    codes = ", ".join(t.attendance_code for t in order.tickets)
    body = say(
        language,
        f"Pesanan Anda untuk {title} sudah aktif: {count} tiket. Kode kehadiran: {codes}.",
        f"Your order for {title} is active: {count} ticket{'s' if count > 1 else ''}. "
        f"Attendance code{'s' if count > 1 else ''}: {codes}.",
    )
    details = _event_rows(order, language)
    if order.order_id:
        details.append((say(language, "Nomor pembayaran", "Payment order"), order.order_id))
    if order.discount:
        promo = f" ({order.promo_code})" if order.promo_code else ""
        details.append((say(language, "Diskon", "Discount"), f"{rupiah(order.discount)}{promo}"))
    paid = rupiah(order.total) if order.total else say(language, "Gratis", "Free")
    details.append((say(language, "Dibayar", "Paid"), paid))
    paragraphs = [
        say(
            language,
            f"Terima kasih! Pesanan Anda untuk {title} sudah aktif.",
            f"Thank you! Your order for {title} is active.",
        ),
        say(
            language,
            "Setiap tiket punya kode QR sendiri: tunjukkan kode QR (atau sebutkan kode "
            "kehadiran) pemegangnya di pintu masuk.",
            "Each ticket has its own QR code: show the holder's QR code (or tell the "
            "attendance code) at the entrance.",
        ),
    ]
    buyer = address(order.customer_email)
    if any(address(t.holder_email) != buyer for t in order.tickets):
        paragraphs.append(
            say(
                language,
                "Pemegang tiket dengan alamat e-mail lain juga menerima e-tiket mereka.",
                "Ticket holders with another e-mail address also receive their e-tickets.",
            )
        )
    return Message(
        title=_headline(order, language),
        body=body,
        greeting=say(language, f"Halo {order.customer_name},", f"Hello {order.customer_name},"),
        paragraphs=tuple(paragraphs),
        details=tuple(details),
        footer=automatic_footer(language),
        tickets=_e_tickets(order, language, prices=True),
    )


def _for_attendee(order: OrderActivated, language: Language) -> Message:
    title = order.event_title
    holder = order.tickets[0].holder_name if order.tickets else ""
    codes = ", ".join(t.attendance_code for t in order.tickets)
    body = say(
        language,
        f"Tiket Anda untuk {title} sudah aktif. Kode kehadiran: {codes}.",
        f"Your ticket for {title} is active. Attendance code: {codes}.",
    )
    return Message(
        title=_headline(order, language),
        body=body,
        greeting=say(language, f"Halo {holder},", f"Hello {holder},"),
        paragraphs=(
            say(
                language,
                f"{order.customer_name} memesan tiket {title} untuk Anda. Tiket Anda sudah aktif.",
                f"{order.customer_name} booked a ticket for {title} for you. It is active.",
            ),
            say(
                language,
                "Tunjukkan kode QR di bawah ini (atau sebutkan kode kehadiran) di pintu masuk.",
                "Show the QR code below (or tell the attendance code) at the entrance.",
            ),
        ),
        details=tuple(_event_rows(order, language)),
        footer=automatic_footer(language),
        tickets=_e_tickets(order, language, prices=False),
    )
