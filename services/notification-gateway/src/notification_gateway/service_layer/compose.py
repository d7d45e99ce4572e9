"""What each event says, to whom, in Indonesian (default) or English.

`recipients(payload)` names who hears of an event and on which channels; `compose(payload,
audience, language)` writes the message. Both are pure: the same event always reads the same,
so an e-mail can be rendered again at send time from the stored event.
"""

from collections.abc import Callable
from typing import Any

from ticketing_contracts import (
    EventPayload,
    OrderActivated,
    PaymentDeclined,
    PaymentFailed,
    PaymentInstructions,
    PaymentPending,
    PaymentRefunded,
    PaymentRefundUpdated,
    TicketActivated,
    TicketActivatedV2,
    TicketCancelled,
    TicketCheckedIn,
    TicketCheckedInV3,
    TicketExpired,
    WaitlistOffered,
)

from notification_gateway.domain.formatting import automatic_footer, rupiah, say, wib
from notification_gateway.domain.model import Audience, Channel, Language, Message, Recipient
from notification_gateway.service_layer.order_messages import (
    order_for,
    order_message,
    order_recipients,
    receipt_order_id,
)

ALL = frozenset({Channel.EMAIL, Channel.PUSH, Channel.STREAM})
NO_EMAIL = frozenset({Channel.PUSH, Channel.STREAM})

NOTIFIED_EVENTS: tuple[type[EventPayload], ...] = (
    TicketActivated,
    PaymentPending,
    TicketExpired,
    PaymentFailed,
    TicketCancelled,
    PaymentRefunded,
    TicketCheckedIn,
    PaymentDeclined,
    PaymentRefundUpdated,
    OrderActivated,
    WaitlistOffered,
)
"""v2 payment events are subclasses of their v1 models, so they are notified the same way."""

REFUND_TOLD = frozenset({"awaiting_payout", "succeeded", "paid_out"})
"""The refund states a buyer hears of: their bank account is needed, or the money is back."""


def _refund_back(order_id: str, amount: int) -> str:
    # payment.refunded and the refund's own `succeeded` update report the same money: one
    # e-mail and one push between them (both stay in the list and the stream).
    return f"refund-back:{order_id}:{amount}"


def in_an_order(payload: EventPayload) -> bool:
    """A ticket activated with its order: `order.activated` tells everyone, once per order.

    A ticket transferred to a new holder is not: its e-ticket goes to the receiver alone.
    """
    return (
        isinstance(payload, TicketActivatedV2)
        and payload.purchase_order_id is not None
        and not payload.transferred
    )


def recipients(payload: EventPayload) -> list[Recipient]:
    match payload:
        case TicketActivated() if in_an_order(payload):
            return []
        case OrderActivated():
            return order_recipients(payload)
        case TicketActivated() | TicketCancelled():
            holder = [Recipient(payload.user_id, Audience.HOLDER, payload.holder_email, ALL)]
            if (
                isinstance(payload, TicketCancelled)
                and payload.host_id
                and payload.host_id != payload.user_id
            ):
                holder.append(Recipient(payload.host_id, Audience.HOST, None, NO_EMAIL))
            return holder
        case TicketExpired():
            return [
                Recipient(
                    payload.user_id,
                    Audience.HOLDER,
                    payload.holder_email,
                    ALL,
                    collapse_key=f"hold-ended:{payload.ticket_id}",
                )
            ]
        case PaymentFailed():
            return [
                Recipient(
                    payload.user_id,
                    Audience.HOLDER,
                    payload.customer_email,
                    ALL,
                    collapse_key=f"hold-ended:{payload.ticket_id}",
                )
            ]
        case PaymentRefunded():
            return [
                Recipient(
                    payload.user_id,
                    Audience.HOLDER,
                    payload.customer_email,
                    ALL,
                    collapse_key=_refund_back(payload.order_id, payload.refund_amount),
                )
            ]
        case PaymentPending():
            return [Recipient(payload.user_id, Audience.HOLDER, payload.customer_email, ALL)]
        case PaymentDeclined():
            # The buyer is still on the Snap page (or just left it): tell them at once where
            # they look, not by e-mail.
            return [Recipient(payload.user_id, Audience.HOLDER, None, NO_EMAIL)]
        case PaymentRefundUpdated() if payload.refund_status in REFUND_TOLD:
            back = payload.refund_status != "awaiting_payout"
            key = _refund_back(payload.order_id, payload.refund_amount) if back else None
            return [
                Recipient(
                    payload.user_id,
                    Audience.HOLDER,
                    payload.customer_email,
                    ALL,
                    collapse_key=key,
                )
            ]
        case TicketCheckedIn():
            return _at_the_door(payload)
        case WaitlistOffered():
            return [
                Recipient(
                    payload.user_id,
                    Audience.HOLDER,
                    payload.customer_email,
                    ALL,
                    collapse_key=f"waitlist-offer:{payload.offer_id}",
                )
            ]
    return []


STREAM_ONLY = frozenset({Channel.STREAM})


def _at_the_door(payload: TicketCheckedIn) -> list[Recipient]:
    """The holder hears of their first entry; the host's live stream gets every scan (v3)."""
    told: list[Recipient] = []
    if not isinstance(payload, TicketCheckedInV3) or (
        payload.direction == "in" and not payload.reentry
    ):
        told.append(Recipient(payload.user_id, Audience.HOLDER, None, NO_EMAIL))
    if isinstance(payload, TicketCheckedInV3) and payload.host_id:
        told.append(Recipient(payload.host_id, Audience.HOST, None, STREAM_ONLY))
    return told


def addressed_to(payload: EventPayload, recipient_id: str) -> EventPayload:
    """The event as this person sees it (an attendee's order holds only their tickets); it is
    what their notification stores, so the e-mail rendered at send time shows the same."""
    if isinstance(payload, OrderActivated):
        return order_for(payload, recipient_id)
    return payload


def compose(
    payload: EventPayload,
    audience: Audience,
    language: Language,
    *,
    recipient_id: str | None = None,
) -> Message:
    """`recipient_id`: whose notification it is (an order reads differently to an attendee)."""
    if isinstance(payload, OrderActivated):
        return order_message(payload, language, recipient_id=recipient_id)
    # Walk the class's ancestry: a v2 model (PaymentSettledV2, ...) reads like its v1 parent.
    for model in type(payload).__mro__:
        writer = _WRITERS.get((model, audience))
        if writer is not None:
            return writer(payload, language)
    raise KeyError((type(payload).__name__, audience))


def receipt_wanted(payload: EventPayload, recipient_id: str) -> str | None:
    """The order whose receipt this person's e-mail carries, if any: the buyer's paid order."""
    if isinstance(payload, OrderActivated):
        return receipt_order_id(payload, recipient_id)
    return None


def public_data(payload: EventPayload) -> dict[str, str]:
    """Ids and facts the app can act on (also FCM `data`, so every value is a string).

    The signed QR content stays out (an order's tickets' too): it is the ticket itself and is
    only drawn in the e-mail.
    """
    raw: dict[str, object] = payload.model_dump(mode="json", exclude=_SECRET_FIELDS)
    return {key: _as_text(value) for key, value in raw.items() if value is not None}


_SECRET_FIELDS: dict[str, Any] = {"qr_payload": True, "tickets": {"__all__": {"qr_payload"}}}


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    import json

    return json.dumps(value, separators=(",", ":"), sort_keys=True)


_t = say
_footer = automatic_footer


def _ticket_details(
    p: TicketActivated | TicketCancelled | TicketExpired | TicketCheckedIn, language: Language
) -> list[tuple[str, str]]:
    rows = [
        (_t(language, "Acara", "Event"), p.event_title),
        (_t(language, "Waktu", "Time"), wib(p.event_starts_at, language)),
    ]
    if p.event_venue:
        rows.append((_t(language, "Tempat", "Venue"), p.event_venue))
    rows.append((_t(language, "Pemegang tiket", "Ticket holder"), p.holder_name))
    rows.append((_t(language, "Kode kehadiran", "Attendance code"), p.attendance_code))
    if p.order_id:
        rows.append((_t(language, "Nomor pesanan", "Order number"), p.order_id))
    return rows


def _activated(p: TicketActivated, language: Language) -> Message:
    price = rupiah(p.price_paid) if p.price_paid else _t(language, "Gratis", "Free")
    details = _ticket_details(p, language)
    details.append((_t(language, "Dibayar", "Paid"), price))
    return Message(
        title=_t(language, f"E-tiket Anda: {p.event_title}", f"Your e-ticket: {p.event_title}"),
        body=_t(
            language,
            f"Tiket Anda untuk {p.event_title} sudah aktif. Kode kehadiran: {p.attendance_code}.",
            f"Your ticket for {p.event_title} is active. Attendance code: {p.attendance_code}.",
        ),
        greeting=_t(language, f"Halo {p.holder_name},", f"Hello {p.holder_name},"),
        paragraphs=(
            _t(
                language,
                f"Terima kasih! Tiket Anda untuk {p.event_title} sudah aktif.",
                f"Thank you! Your ticket for {p.event_title} is active.",
            ),
            _t(
                language,
                "Tunjukkan kode QR di bawah ini (atau sebutkan kode kehadiran) di pintu masuk.",
                "Show the QR code below (or tell the attendance code) at the entrance.",
            ),
        ),
        details=tuple(details),
        footer=_footer(language),
        qr_payload=p.qr_payload,
        qr_caption=_t(language, "Kode QR tiket Anda", "Your ticket's QR code"),
    )


def _how_to_pay(instructions: PaymentInstructions | None, language: Language) -> list[str]:
    if instructions is None:
        return []
    steps = [
        _t(
            language,
            f"Transfer ke virtual account {va.bank.upper()}: {va.va_number}",
            f"Transfer to the {va.bank.upper()} virtual account: {va.va_number}",
        )
        for va in instructions.va_numbers
    ]
    if instructions.permata_va_number:
        steps.append(
            _t(
                language,
                f"Transfer ke virtual account Permata: {instructions.permata_va_number}",
                f"Transfer to the Permata virtual account: {instructions.permata_va_number}",
            )
        )
    if instructions.biller_code and instructions.bill_key:
        steps.append(
            _t(
                language,
                f"Mandiri Bill: kode perusahaan {instructions.biller_code}, "
                f"kode bayar {instructions.bill_key}",
                f"Mandiri Bill: biller code {instructions.biller_code}, "
                f"bill key {instructions.bill_key}",
            )
        )
    if instructions.store and instructions.payment_code:
        steps.append(
            _t(
                language,
                f"Bayar di {instructions.store} dengan kode {instructions.payment_code}",
                f"Pay at {instructions.store} with the code {instructions.payment_code}",
            )
        )
    return steps


def _pending(p: PaymentPending, language: Language) -> Message:
    title = p.event_title or _t(language, "tiket Anda", "your ticket")
    deadline = wib(p.expires_at, language) if p.expires_at else None
    steps = _how_to_pay(p.instructions, language)
    body = _t(
        language,
        f"Selesaikan pembayaran {rupiah(p.amount)} untuk {title}"
        + (f" sebelum {deadline}." if deadline else "."),
        f"Finish paying {rupiah(p.amount)} for {title}"
        + (f" before {deadline}." if deadline else "."),
    )
    details = [(_t(language, "Jumlah", "Amount"), rupiah(p.amount))]
    if deadline:
        details.append((_t(language, "Batas waktu", "Pay before"), deadline))
    details.append((_t(language, "Nomor pesanan", "Order number"), p.order_id))
    if p.event_title:
        details.insert(0, (_t(language, "Acara", "Event"), p.event_title))
    if p.event_starts_at:
        details.insert(
            1, (_t(language, "Waktu acara", "Event time"), wib(p.event_starts_at, language))
        )
    after = _t(
        language,
        "Jika tidak dibayar sebelum batas waktu, kursi Anda dilepas dan tidak ada dana ditagih.",
        "If it is not paid in time, your seat is released and nothing is charged.",
    )
    return Message(
        title=_t(language, f"Selesaikan pembayaran: {title}", f"Finish your payment: {title}"),
        body=body,
        greeting=_t(language, f"Halo {p.customer_name},", f"Hello {p.customer_name},"),
        paragraphs=(body, *steps, after),
        details=tuple(details),
        footer=_footer(language),
    )


def _hold_ended(
    *, title: str, name: str, headline: str, order_id: str | None, language: Language
) -> Message:
    body = _t(
        language,
        f"Kursi Anda untuk {title} sudah dilepas. Tidak ada dana yang ditagih.",
        f"Your seat for {title} has been released. Nothing was charged.",
    )
    details = [(_t(language, "Acara", "Event"), title)]
    if order_id:
        details.append((_t(language, "Nomor pesanan", "Order number"), order_id))
    return Message(
        title=f"{headline}: {title}",
        body=body,
        greeting=_t(language, f"Halo {name},", f"Hello {name},"),
        paragraphs=(
            body,
            _t(
                language,
                "Jika masih ingin datang, silakan pesan tiket baru selama masih tersedia.",
                "If you still want to go, you can buy a new ticket while seats last.",
            ),
        ),
        details=tuple(details),
        footer=_footer(language),
    )


def _expired(p: TicketExpired, language: Language) -> Message:
    return _hold_ended(
        title=p.event_title,
        name=p.holder_name,
        headline=_t(language, "Waktu pembayaran habis", "Payment time is up"),
        order_id=p.order_id,
        language=language,
    )


def _failed(p: PaymentFailed, language: Language) -> Message:
    headline = (
        _t(language, "Waktu pembayaran habis", "Payment time is up")
        if p.transaction_status == "expire"
        else _t(language, "Pembayaran tidak berhasil", "Payment did not go through")
    )
    return _hold_ended(
        title=p.event_title or _t(language, "tiket Anda", "your ticket"),
        name=p.customer_name,
        headline=headline,
        order_id=p.order_id,
        language=language,
    )


def _cancelled_holder(p: TicketCancelled, language: Language) -> Message:
    body = _t(
        language,
        f"Tiket Anda untuk {p.event_title} dibatalkan.",
        f"Your ticket for {p.event_title} has been cancelled.",
    )
    details = _ticket_details(p, language)
    details.append((_t(language, "Alasan", "Reason"), p.reason))
    return Message(
        title=_t(
            language, f"Tiket dibatalkan: {p.event_title}", f"Ticket cancelled: {p.event_title}"
        ),
        body=body,
        greeting=_t(language, f"Halo {p.holder_name},", f"Hello {p.holder_name},"),
        paragraphs=(
            body,
            _t(
                language,
                "Jika tiket ini sudah dibayar, pengembalian dana diberitahukan terpisah.",
                "If this ticket was paid for, you will hear about the refund separately.",
            ),
        ),
        details=tuple(details),
        footer=_footer(language),
    )


def _cancelled_host(p: TicketCancelled, language: Language) -> Message:
    return Message(
        title=_t(
            language, f"Kursi dibatalkan: {p.event_title}", f"Seat cancelled: {p.event_title}"
        ),
        body=_t(
            language,
            f"Tiket {p.holder_name} untuk {p.event_title} dibatalkan; kursinya tersedia lagi.",
            f"{p.holder_name}'s ticket for {p.event_title} was cancelled; the seat is free again.",
        ),
        details=((_t(language, "Kode kehadiran", "Attendance code"), p.attendance_code),),
    )


def _refunded(p: PaymentRefunded, language: Language) -> Message:
    title = p.event_title or _t(language, "tiket Anda", "your ticket")
    body = _t(
        language,
        f"Dana {rupiah(p.refund_amount)} untuk {title} dikembalikan ke metode pembayaran Anda.",
        f"{rupiah(p.refund_amount)} for {title} is being returned to your payment method.",
    )
    details = [
        (_t(language, "Dikembalikan", "Refunded"), rupiah(p.refund_amount)),
        (_t(language, "Total dibayar", "Paid in total"), rupiah(p.amount)),
        (_t(language, "Nomor pesanan", "Order number"), p.order_id),
    ]
    if p.reason:
        details.append((_t(language, "Alasan", "Reason"), p.reason))
    return Message(
        title=_t(language, f"Dana dikembalikan: {title}", f"Refund: {title}"),
        body=body,
        greeting=_t(language, f"Halo {p.customer_name},", f"Hello {p.customer_name},"),
        paragraphs=(
            body,
            _t(
                language,
                "Waktu sampainya dana tergantung bank atau penyedia pembayaran Anda.",
                "How soon it arrives depends on your bank or payment provider.",
            ),
        ),
        details=tuple(details),
        footer=_footer(language),
    )


def _declined(p: PaymentDeclined, language: Language) -> Message:
    title = p.event_title or _t(language, "tiket Anda", "your ticket")
    body = _t(
        language,
        f"Pembayaran {rupiah(p.amount)} untuk {title} ditolak. Kursi Anda masih kami tahan: "
        "coba lagi dengan kartu atau metode lain di halaman pembayaran yang sama.",
        f"Your payment of {rupiah(p.amount)} for {title} was declined. Your seat is still "
        "held: try again with another card or method on the same payment page.",
    )
    details = [(_t(language, "Nomor pesanan", "Order number"), p.order_id)]
    if p.reason:
        details.append((_t(language, "Alasan", "Reason"), p.reason))
    return Message(
        title=_t(
            language,
            f"Pembayaran ditolak, silakan coba lagi: {title}",
            f"Payment declined, please try again: {title}",
        ),
        body=body,
        details=tuple(details),
    )


def _refund_updated(p: PaymentRefundUpdated, language: Language) -> Message:
    title = p.event_title or _t(language, "tiket Anda", "your ticket")
    amount = rupiah(p.refund_amount)
    if p.refund_status == "awaiting_payout":
        headline = _t(
            language,
            f"Kirim rekening bank Anda untuk pengembalian dana: {title}",
            f"Send your bank account for your refund: {title}",
        )
        body = _t(
            language,
            f"Dana {amount} untuk {title} akan kami transfer ke rekening bank Anda, karena "
            "metode pembayaran ini tidak bisa dikembalikan otomatis. Isi rekening Anda di "
            "aplikasi, di halaman tiket.",
            f"We will transfer {amount} for {title} to your bank account, because this payment "
            "method cannot be refunded automatically. Enter your account in the app, on the "
            "ticket's page.",
        )
    elif p.refund_status == "paid_out":
        headline = _t(language, f"Dana sudah ditransfer: {title}", f"Refund sent: {title}")
        body = _t(
            language,
            f"Dana {amount} untuk {title} sudah kami transfer ke rekening bank Anda.",
            f"We have transferred {amount} for {title} to your bank account.",
        )
    else:
        headline = _t(language, f"Dana sudah kembali: {title}", f"Your money is back: {title}")
        body = _t(
            language,
            f"Dana {amount} untuk {title} sudah dikembalikan ke metode pembayaran Anda.",
            f"{amount} for {title} has been returned to your payment method.",
        )
    details = [
        (_t(language, "Dikembalikan", "Refunded"), amount),
        (_t(language, "Nomor pesanan", "Order number"), p.order_id),
    ]
    if p.reason:
        details.append((_t(language, "Alasan", "Reason"), p.reason))
    if p.reference:
        details.append((_t(language, "Referensi transfer", "Transfer reference"), p.reference))
    return Message(
        title=headline,
        body=body,
        greeting=_t(language, f"Halo {p.customer_name},", f"Hello {p.customer_name},"),
        paragraphs=(body,),
        details=tuple(details),
        footer=_footer(language),
    )


def _scanned_host(p: TicketCheckedInV3, language: Language) -> Message:
    way = {"in": _t(language, "masuk", "in"), "out": _t(language, "keluar", "out")}[p.direction]
    when = wib(p.scanned_at or p.checked_in_at, language)
    return Message(
        title=f"{p.holder_name} {way}",
        body=_t(
            language,
            f"{p.event_title}: pintu {p.list_id}, {when}.",
            f"{p.event_title}: gate {p.list_id}, {when}.",
        ),
    )


def _checked_in(p: TicketCheckedIn, language: Language) -> Message:
    return Message(
        title=_t(language, f"Selamat datang di {p.event_title}", f"Welcome to {p.event_title}"),
        body=_t(
            language,
            f"Check-in berhasil pada {wib(p.checked_in_at, language)}. Selamat menikmati!",
            f"Checked in at {wib(p.checked_in_at, language)}. Enjoy!",
        ),
        details=tuple(_ticket_details(p, language)),
    )


def _waitlist_offered(p: WaitlistOffered, language: Language) -> Message:
    deadline = wib(p.expires_at, language)
    kind = p.ticket_type_name or p.ticket_type_id
    total = rupiah(p.price * p.seats) if p.price else _t(language, "Gratis", "Free")
    body = _t(
        language,
        f"Ada {p.seats} kursi {kind} untuk {p.event_title} yang kami tahan untuk Anda sampai "
        f"{deadline}. Ambil di aplikasi sebelum waktunya habis.",
        f"{p.seats} {kind} seat(s) for {p.event_title} are held for you until {deadline}. "
        "Take them in the app before the time runs out.",
    )
    after = _t(
        language,
        "Jika tidak diambil sebelum batas waktu, kursi ini ditawarkan ke orang berikutnya "
        "di daftar tunggu.",
        "If you do not take them in time, they are offered to the next person on the list.",
    )
    details = [
        (_t(language, "Acara", "Event"), p.event_title),
        (_t(language, "Waktu", "Time"), wib(p.event_starts_at, language)),
        (_t(language, "Jenis tiket", "Ticket type"), kind),
        (_t(language, "Jumlah kursi", "Seats"), str(p.seats)),
        (_t(language, "Total", "Total"), total),
        (_t(language, "Berlaku sampai", "Held until"), deadline),
    ]
    return Message(
        title=_t(language, f"Kursi untuk Anda: {p.event_title}", f"Seats for you: {p.event_title}"),
        body=body,
        greeting=_t(language, f"Halo {p.customer_name},", f"Hello {p.customer_name},"),
        paragraphs=(body, after),
        details=tuple(details),
        footer=_footer(language),
    )


_Writer = Callable[[Any, Language], Message]
_WRITERS: dict[tuple[type[EventPayload], Audience], _Writer] = {
    (TicketActivated, Audience.HOLDER): _activated,
    (PaymentPending, Audience.HOLDER): _pending,
    (TicketExpired, Audience.HOLDER): _expired,
    (PaymentFailed, Audience.HOLDER): _failed,
    (TicketCancelled, Audience.HOLDER): _cancelled_holder,
    (TicketCancelled, Audience.HOST): _cancelled_host,
    (PaymentRefunded, Audience.HOLDER): _refunded,
    (TicketCheckedIn, Audience.HOLDER): _checked_in,
    (TicketCheckedInV3, Audience.HOST): _scanned_host,
    (PaymentDeclined, Audience.HOLDER): _declined,
    (PaymentRefundUpdated, Audience.HOLDER): _refund_updated,
    (WaitlistOffered, Audience.HOLDER): _waitlist_offered,
}
