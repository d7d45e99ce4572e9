"""Issuing receipts and credit notes, and showing them to the buyer.

`issue_receipt` and `issue_credit_note` run inside the caller's transaction: the one that marks
the order paid (or records its refund). The number is taken there, in the statement that stores
the receipt, so a rollback gives it back and the host's sequence for the year has no gap;
concurrent payments of one host queue on its counter row until each commits. A payment event
locks the host's counter before the event's row (a late payment too, `hold_numbering`), so two
payments of one host never wait on each other in a circle.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from ticket_service.domain.door import Actor
from ticket_service.domain.errors import EventNotFound, InvalidEvent, NotEventHost
from ticket_service.domain.receipts import (
    MAX_PBJT_RATE,
    UNNUMBERED,
    OrderNotPaid,
    PaidOrder,
    Receipt,
    ReceiptKind,
    ReceiptNotFound,
    TaxRates,
    tax_lines,
    wib_year,
)


class ReceiptBook(Protocol):
    async def paid_order(self, order_id: str) -> PaidOrder | None: ...

    async def receipt_of(self, order_id: str) -> Receipt | None: ...

    async def credit_notes_of(self, order_id: str) -> Sequence[Receipt]: ...

    async def hold_counter(self, host_id: str, year: int, kind: ReceiptKind) -> None:
        """Lock the host's counter for the year (made at 0 if new) until the transaction ends,
        taking no number."""

    async def issue(self, receipt: Receipt) -> Receipt:
        """`receipt` stored under the next number of its host's year and kind (the number it
        carries is not read), in one statement: the counter row stays locked until the
        transaction ends, so a rollback gives the number back."""


@dataclass(frozen=True)
class PlatformRates:
    """The platform's own rates (settings): its fee and the PPN on it, in percent."""

    platform_fee: Decimal
    ppn: Decimal


async def issue_receipt(
    book: ReceiptBook, *, order_id: str, platform: PlatformRates, now: datetime
) -> Receipt:
    """The order's receipt; issued once (a second call answers the first receipt).

    The caller is the transaction that marks the order paid.
    """
    existing = await book.receipt_of(order_id)
    if existing is not None:
        return existing
    order = await book.paid_order(order_id)
    if order is None:
        raise ReceiptNotFound("No such order.")
    rates = TaxRates(order.pbjt_rate, platform.platform_fee, platform.ppn)
    return await book.issue(
        Receipt(
            id=str(uuid.uuid4()),
            kind=ReceiptKind.RECEIPT,
            host_id=order.host_id,
            year=wib_year(order.paid_at),
            number=UNNUMBERED,
            order=order,
            issued_at=now,
            rates=rates,
            lines=tax_lines(order.total, rates),
        )
    )


async def issue_credit_note(
    book: ReceiptBook, *, order_id: str, refunded: int, refund_key: str, now: datetime
) -> Receipt | None:
    """A credit note for one refund of a receipted order (once per `refund_key`).

    None when the order has no receipt (it was never paid): there is nothing to correct.
    """
    receipt = await book.receipt_of(order_id)
    if receipt is None:
        return None
    for note in await book.credit_notes_of(order_id):
        if note.refund_key == refund_key:
            return note
    amount = min(refunded, receipt.lines.total)
    return await book.issue(
        Receipt(
            id=str(uuid.uuid4()),
            kind=ReceiptKind.CREDIT_NOTE,
            host_id=receipt.host_id,
            year=wib_year(now),
            number=UNNUMBERED,
            order=receipt.order,
            issued_at=now,
            rates=receipt.rates,
            lines=tax_lines(amount, receipt.rates),
            credits=receipt.label,
            refund_key=refund_key,
        )
    )


@dataclass(frozen=True)
class Bookkeeping:
    """Receipts kept in step with payments, in the payment event's own transaction."""

    book: ReceiptBook
    platform: PlatformRates

    async def order_paid(self, order_id: str | None, *, now: datetime) -> Receipt | None:
        """`order_id`: the purchase order paid for (None: a bare ticket, which has none)."""
        if order_id is None:
            return None
        return await issue_receipt(self.book, order_id=order_id, platform=self.platform, now=now)

    async def hold_numbering(self, order_id: str | None) -> None:
        """Lock the host's receipt counter now, ahead of the event's row: what a late payment
        does before it takes a seat back, so it locks in the order of the usual payment."""
        if order_id is None:
            return
        order = await self.book.paid_order(order_id)
        if order is not None:
            await self.book.hold_counter(
                order.host_id, wib_year(order.paid_at), ReceiptKind.RECEIPT
            )

    async def money_returned(
        self, order_id: str | None, *, amount: int, refund_key: str, now: datetime
    ) -> Receipt | None:
        if order_id is None:
            return None
        return await issue_credit_note(
            self.book, order_id=order_id, refunded=amount, refund_key=refund_key, now=now
        )


@dataclass(frozen=True)
class OrderReceipt:
    receipt: Receipt
    credit_notes: Sequence[Receipt]


async def order_receipt(book: ReceiptBook, *, order_id: str, actor: Actor) -> OrderReceipt:
    """The buyer's receipt with its credit notes; the host and admins may read it too."""
    receipt = await book.receipt_of(order_id)
    if receipt is None:
        order = await book.paid_order(order_id)
        if order is None or not _may_read(order, actor):
            raise ReceiptNotFound("No such order.")
        raise OrderNotPaid(order.status)
    if not _may_read(receipt.order, actor):
        raise ReceiptNotFound("No such order.")
    return OrderReceipt(receipt, await book.credit_notes_of(order_id))


def _may_read(order: PaidOrder, actor: Actor) -> bool:
    return actor.user_id == order.buyer_id or actor.runs(order.host_id)


@dataclass(frozen=True)
class EventTax:
    event_id: str
    host_id: str
    pbjt_rate: Decimal


class EventTaxes(Protocol):
    async def event_tax(self, event_id: str) -> EventTax | None: ...

    async def set_pbjt_rate(self, event_id: str, rate: Decimal) -> None: ...


async def event_tax(taxes: EventTaxes, *, event_id: str) -> EventTax:
    found = await taxes.event_tax(event_id)
    if found is None:
        raise EventNotFound("No ticketed event with this id.")
    return found


async def set_pbjt_rate(
    taxes: EventTaxes, *, event_id: str, actor: Actor, rate: Decimal
) -> EventTax:
    """The host sets the PBJT its region charges (at most 10 %); issued receipts keep theirs."""
    found = await event_tax(taxes, event_id=event_id)
    if not actor.runs(found.host_id):
        raise NotEventHost("Only the event's host or an admin may set its tax rate.")
    if not Decimal(0) <= rate <= MAX_PBJT_RATE:
        raise InvalidEvent(f"The PBJT rate is at most {MAX_PBJT_RATE} %.")
    await taxes.set_pbjt_rate(event_id, rate)
    return EventTax(event_id, found.host_id, rate)
