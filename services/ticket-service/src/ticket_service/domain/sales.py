"""The host's sales report: per day (WIB) and ticket type, the totals as receipted, promo uses."""

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, kw_only=True)
class SalesRow:
    """One day and type: tickets sold and refunded, their money, and the PBJT in the net."""

    day: date
    ticket_type_id: str
    ticket_type_name: str
    sold: int
    refunded: int
    gross: int
    refunds: int
    pbjt: int

    @property
    def net(self) -> int:
        return self.gross - self.refunds


@dataclass(frozen=True, kw_only=True)
class SalesTotals:
    """What the receipts and credit notes add up to: the figures the accountant files."""

    receipts: int
    credit_notes: int
    gross: int
    refunds: int
    pbjt: int
    platform_fee: int
    ppn: int

    @property
    def net(self) -> int:
        return self.gross - self.refunds

    @property
    def host_proceeds(self) -> int:
        return self.net - self.platform_fee - self.ppn


@dataclass(frozen=True)
class PromoCodeUse:
    code: str
    orders: int
    discount: int


@dataclass(frozen=True)
class SalesReport:
    event_id: str
    rows: tuple[SalesRow, ...]
    totals: SalesTotals
    promo_codes: tuple[PromoCodeUse, ...]
