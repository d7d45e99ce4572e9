"""The fair waiting list: entries in line by the time they joined, and the offers seats become."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ticket_service.domain.entities import Ticket
from ticket_service.domain.errors import SalesClosed, TicketingRefusal
from ticket_service.domain.orders import TicketTypeNotFound

MOST_SEATS_WAITED_FOR = 10
"""The most seats one entry may wait for; a type's max_per_order and the event's max_per_user
limit it further."""


class EntryStatus(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    LEFT = "left"
    LAPSED = "lapsed"
    """Its offer expired untaken: the entry is out of the line, its seats passed on."""


LIVE_ENTRY = frozenset({EntryStatus.WAITING, EntryStatus.OFFERED})


class OfferStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    """The user left the list while the offer was open."""


@dataclass(frozen=True, kw_only=True)
class WaitlistEntry:
    id: str
    event_id: str
    ticket_type_id: str
    user_id: str
    customer_name: str
    customer_email: str
    customer_phone: str | None
    quantity: int
    status: EntryStatus
    joined_at: datetime


@dataclass(frozen=True, kw_only=True)
class WaitlistOffer:
    id: str
    entry_id: str
    event_id: str
    ticket_type_id: str
    user_id: str
    seats: int
    price: int
    status: OfferStatus
    expires_at: datetime
    created_at: datetime
    ticket_id: str | None = None

    def is_open_at(self, now: datetime) -> bool:
        return self.status == OfferStatus.OPEN and now < self.expires_at


@dataclass(frozen=True)
class Place:
    """Where a user stands on one type's list: 1 is next; 0 once they hold an offer."""

    entry: WaitlistEntry
    position: int
    offer: WaitlistOffer | None


@dataclass(frozen=True)
class OfferOrder:
    """The order an accepted offer became: its tickets hold the offer's seats."""

    purchase_order_id: str
    offer: WaitlistOffer
    ticket_type_name: str
    tickets: list[Ticket]

    @property
    def total(self) -> int:
        return self.offer.price * self.offer.seats

    @property
    def first(self) -> Ticket:
        return self.tickets[0]


@dataclass(frozen=True, kw_only=True)
class NewEntry:
    event_id: str
    ticket_type_id: str
    user_id: str
    customer_name: str
    customer_email: str
    customer_phone: str | None
    quantity: int


@dataclass(frozen=True, kw_only=True)
class TypeOnSale:
    """What joining a type's list checks: the type exists, its limits, whether seats are free."""

    event_id: str
    ticket_type_id: str
    max_per_order: int | None
    max_per_user: int | None
    free_seats: int
    someone_waiting: bool
    sales_closed: bool = False


class NoSuchLine(TicketTypeNotFound):
    """The event has no such type on sale: there is no line to join (404, the line is the
    resource; an order naming an unknown type is 422)."""


class AlreadyWaiting(TicketingRefusal):
    pass


class SeatsAvailable(TicketingRefusal):
    """Nobody waits and seats are free: buy them, the list is for a sold-out type."""


class TooManySeats(TicketingRefusal):
    pass


class NotWaiting(TicketingRefusal):
    pass


class OfferNotFound(TicketingRefusal):
    pass


class OfferNotOpen(TicketingRefusal):
    """Expired, withdrawn, or taken already."""


def check_quantity(type_: TypeOnSale, quantity: int) -> None:
    limits = [MOST_SEATS_WAITED_FOR]
    limits += [n for n in (type_.max_per_order, type_.max_per_user) if n is not None]
    if quantity > min(limits):
        raise TooManySeats(
            f"You can wait for at most {min(limits)} seat(s) of this type.",
            details={"max_quantity": min(limits)},
        )


def check_sold_out(type_: TypeOnSale, quantity: int) -> None:
    """The list is the way in only when the type cannot sell `quantity` now, and never will."""
    if type_.sales_closed:
        raise SalesClosed("Ticket sales for this type have ended; there is no waiting list.")
    if not type_.someone_waiting and type_.free_seats >= quantity:
        raise SeatsAvailable(
            "Seats of this type are on sale: buy them instead of waiting.",
            details={"free_seats": type_.free_seats},
        )
