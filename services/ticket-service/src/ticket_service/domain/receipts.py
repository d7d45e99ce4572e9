"""Receipts (kwitansi) and credit notes (nota kredit): numbers, items and the tax lines.

Prices are tax-inclusive, as Indonesian tickets are sold: the PBJT (regional entertainment tax)
is the part of what the buyer paid above its base, `total * rate / (100 + rate)`. The platform's
fee is charged to the host (a share of the total, taken from the payout) with PPN on top of the
fee; the receipt shows both so the host's accountant can file it. Amounts are whole rupiah,
rounded half up; dates are read in WIB.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from ticket_service.domain.errors import TicketingRefusal

WIB = ZoneInfo("Asia/Jakarta")
MAX_PBJT_RATE = Decimal(10)
"""UU 1/2022 (HKPD) caps PBJT on entertainment at 10 % (Jakarta charges the cap)."""


class ReceiptKind(StrEnum):
    RECEIPT = "receipt"
    CREDIT_NOTE = "credit_note"


PREFIX = {ReceiptKind.RECEIPT: "KW", ReceiptKind.CREDIT_NOTE: "NK"}
"""Kwitansi and nota kredit; each kind numbers from 1 per host and year."""


class ReceiptNotFound(TicketingRefusal):
    pass


class OrderNotPaid(TicketingRefusal):
    def __init__(self, status: str) -> None:
        super().__init__(
            f"This order is {status}; only a paid order has a receipt.", details={"status": status}
        )


@dataclass(frozen=True)
class TaxRates:
    """Percentages: the event's PBJT, the platform's fee, PPN on that fee."""

    pbjt: Decimal
    platform_fee: Decimal
    ppn: Decimal


@dataclass(frozen=True)
class TaxLines:
    total: int
    pbjt_base: int
    pbjt: int
    platform_fee: int
    ppn: int

    @property
    def host_proceeds(self) -> int:
        """What the host keeps before paying the PBJT to the region."""
        return self.total - self.platform_fee - self.ppn


def whole_rupiah(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def tax_lines(total: int, rates: TaxRates) -> TaxLines:
    pbjt = whole_rupiah(Decimal(total) * rates.pbjt / (100 + rates.pbjt))
    fee = whole_rupiah(Decimal(total) * rates.platform_fee / 100)
    ppn = whole_rupiah(Decimal(fee) * rates.ppn / 100)
    return TaxLines(total=total, pbjt_base=total - pbjt, pbjt=pbjt, platform_fee=fee, ppn=ppn)


@dataclass(frozen=True)
class ReceiptItem:
    ticket_type_id: str
    name: str
    unit_price: int
    quantity: int

    @property
    def amount(self) -> int:
        return self.unit_price * self.quantity


@dataclass(frozen=True, kw_only=True)
class PaidOrder:
    """What a receipt is made of, read in the transaction that marks the order paid."""

    order_id: str
    status: str
    host_id: str
    event_id: str
    event_title: str
    event_venue: str
    event_starts_at: datetime
    buyer_id: str
    buyer_name: str
    buyer_email: str
    items: tuple[ReceiptItem, ...]
    discount: int
    promo_code: str | None
    total: int
    payment_method: str | None
    paid_at: datetime
    pbjt_rate: Decimal


UNNUMBERED = 0
"""The number of a receipt not yet issued: the receipt book gives it the next one (from 1)."""


@dataclass(frozen=True, kw_only=True)
class Receipt:
    """An issued receipt or credit note; nothing about it changes once issued."""

    id: str
    kind: ReceiptKind
    host_id: str
    year: int
    number: int
    order: PaidOrder
    issued_at: datetime
    rates: TaxRates
    lines: TaxLines
    credits: str | None = None  # a credit note: the number of the receipt it corrects
    refund_key: str | None = None

    @property
    def label(self) -> str:
        return receipt_label(self.kind, self.year, self.number)


def receipt_label(kind: ReceiptKind, year: int, number: int) -> str:
    """KW/2026/000042: the kind, the year and the number within that host's year."""
    return f"{PREFIX[kind]}/{year}/{number:06d}"


def wib_year(moment: datetime) -> int:
    return moment.astimezone(WIB).year
