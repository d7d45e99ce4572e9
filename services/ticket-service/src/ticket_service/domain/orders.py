"""Orders: ticket types, quotas, promo codes, and an order of one or more tickets paid once."""

from dataclasses import dataclass, field
from datetime import datetime

from ticket_service.domain.errors import TicketingRefusal

DEFAULT_MAX_PER_ORDER = 4
"""Big Jakarta concerts allow up to 4 tickets per transaction; an event may set its own."""
DEFAULT_TYPE_ID = "default"


@dataclass(frozen=True, kw_only=True)
class TicketTypeTerms:
    """What a host sets for a type."""

    name: str
    price: int
    capacity: int | None = None
    sales_start: datetime | None = None
    sales_end: datetime | None = None
    max_per_order: int | None = None
    description: str | None = None
    position: int = 0
    hidden: bool = False


@dataclass(frozen=True, kw_only=True)
class TicketType(TicketTypeTerms):
    event_id: str
    id: str
    sold: int
    held: int
    quota_room: int | None = None
    """The smallest room left in any quota holding the type (None: in no quota)."""

    @property
    def available(self) -> int | None:
        """Seats left of the type itself and its quotas (None: only the event limits it)."""
        rooms = [r for r in (self.own_room, self.quota_room) if r is not None]
        return max(min(rooms), 0) if rooms else None

    @property
    def own_room(self) -> int | None:
        return None if self.capacity is None else self.capacity - self.sold - self.held


@dataclass(frozen=True, kw_only=True)
class Quota:
    event_id: str
    id: str
    name: str
    size: int
    sold: int
    held: int
    ticket_type_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class PromoCodeTerms:
    percent_off: int | None = None
    amount_off: int | None = None
    max_uses: int | None = None
    max_uses_per_user: int | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    ticket_type_ids: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class PromoCode(PromoCodeTerms):
    event_id: str
    code: str
    uses: int


def normalise_promo_code(raw: str) -> str:
    """Codes are case-insensitive: stored and compared upper-cased, without outer spaces."""
    return raw.strip().upper()


@dataclass(frozen=True)
class OrderItem:
    ticket_type_id: str
    quantity: int


@dataclass(frozen=True)
class Attendee:
    name: str
    email: str
    phone: str | None = None


@dataclass(frozen=True)
class OrderLine:
    """One type's line of the order: what Midtrans lists as an item."""

    ticket_type_id: str
    name: str
    price: int
    quantity: int


@dataclass(frozen=True, kw_only=True)
class Order:
    """An order as its buyer sees it; `ticket_ids` first ticket first."""

    id: str
    event_id: str
    buyer_id: str
    status: str
    total: int
    discount: int
    currency: str
    promo_code: str | None
    payment_order_id: str | None
    customer_name: str
    customer_email: str
    customer_phone: str | None
    hold_expires_at: datetime | None
    paid_at: datetime | None
    cancelled_at: datetime | None
    created_at: datetime
    updated_at: datetime
    event_title: str
    event_starts_at: datetime
    ticket_ids: tuple[str, ...] = ()
    lines: tuple[OrderLine, ...] = field(default=())

    @property
    def is_free(self) -> bool:
        return self.total == 0


# --- refusals ------------------------------------------------------------------------------------


class OrderNotFound(TicketingRefusal):
    pass


class TicketTypeNotFound(TicketingRefusal):
    pass


class TooManyTickets(TicketingRefusal):
    pass


class InvalidOrder(TicketingRefusal):
    pass


class InvalidPromoCode(TicketingRefusal):
    pass


class PromoCodeUsedUp(TicketingRefusal):
    pass


class OrderNotCancellable(TicketingRefusal):
    pass


class InvalidSaleSetup(TicketingRefusal):
    pass
