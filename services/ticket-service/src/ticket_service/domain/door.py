"""The door's rules: who may admit, cancel or correct a ticket, and the refusals they meet."""

from dataclasses import dataclass
from datetime import datetime
from typing import Self

from ticket_service.domain.entities import Ticket
from ticket_service.domain.errors import NotEventHost, TicketingRefusal, TicketNotFound
from ticket_service.domain.gates import (
    CheckInList,
    Direction,
    GateTicket,
    ListClosed,
    NotInside,
    NotOnList,
    ScanRefusal,
    gate_refusal,
)
from ticket_service.domain.qr_codes import InvalidQrCode
from ticket_service.domain.tickets import TicketStatus

__all__ = [
    "CANCELLABLE",
    "Actor",
    "AlreadyCheckedIn",
    "AmbiguousCode",
    "DoorRateLimited",
    "DoorTicket",
    "EventAlreadyStarted",
    "InvalidQrCode",
    "NonceReused",
    "NotCancellable",
    "NotEventHost",
    "TicketNotActive",
    "TicketNotFound",
    "WrongEvent",
    "authorize_cancel",
    "refund_due",
    "refuse_check_in",
    "refuse_scan",
]


@dataclass(frozen=True)
class Actor:
    """Who acts at the door or on a ticket: a user id and whether they are an admin."""

    user_id: str
    is_admin: bool = False
    scanner_of: str | None = None
    """A scanner (issue 15): the one event whose door it works; it runs no host's tools."""
    list_ids: frozenset[str] | None = None
    """A scanner's lists (None: every list of its event)."""
    scanner_id: str | None = None
    """A scanner's own id, which its host revokes it by."""

    def runs(self, host_id: str) -> bool:
        """The event's host or an admin runs an event's door and its tickets."""
        return self.scanner_of is None and (self.is_admin or self.user_id == host_id)

    def works_door_of(self, event_id: str, host_id: str) -> bool:
        """The host, an admin, or the event's own scanner."""
        if self.scanner_of is not None:
            return self.scanner_of == event_id
        return self.runs(host_id)

    def may_use_list(self, list_id: str) -> bool:
        return self.list_ids is None or list_id in self.list_ids

    @property
    def rate_key(self) -> str:
        """Whose count a door attempt goes to: the scanner's own, else the user's."""
        return f"scanner:{self.user_id}" if self.scanner_of else f"user:{self.user_id}"


@dataclass(frozen=True)
class DoorTicket:
    """What the door rules need to know about a ticket and its event."""

    id: str
    event_id: str
    user_id: str
    host_id: str
    status: TicketStatus
    attendance_code: str
    is_checked_in: bool
    checked_in_at: datetime | None
    price_paid: int
    event_starts_at: datetime

    @classmethod
    def of(cls, ticket: Ticket) -> Self:
        return cls(
            id=ticket.id,
            event_id=ticket.event_id,
            user_id=ticket.user_id,
            host_id=ticket.event.host_id,
            status=ticket.status,
            attendance_code=ticket.attendance_code,
            is_checked_in=ticket.is_checked_in,
            checked_in_at=ticket.checked_in_at,
            price_paid=ticket.price_paid,
            event_starts_at=ticket.event.starts_at,
        )


class AlreadyCheckedIn(TicketingRefusal):
    def __init__(self, checked_in_at: datetime | None) -> None:
        when = checked_in_at.isoformat() if checked_in_at else None
        super().__init__(
            f"This ticket was already checked in at {when}.", details={"checked_in_at": when}
        )


class TicketNotActive(TicketingRefusal):
    def __init__(self, status: TicketStatus) -> None:
        super().__init__(
            f"This ticket is {status}, not active; it cannot be checked in.",
            details={"status": status},
        )


class AmbiguousCode(TicketingRefusal):
    def __init__(self, event_ids: list[str]) -> None:
        super().__init__(
            "Several of your events have a ticket with this code; send event_id.",
            details={"event_ids": sorted(event_ids)},
        )


class WrongEvent(TicketingRefusal):
    def __init__(self, event_id: str) -> None:
        super().__init__(
            "This ticket is for another event than the one at this door.",
            details={"event_id": event_id},
        )


class NonceReused(TicketingRefusal):
    def __init__(self) -> None:
        super().__init__("This scanner already used this nonce for another ticket.")


class NotCancellable(TicketingRefusal):
    def __init__(self, status: str) -> None:
        super().__init__(f"A {status} ticket cannot be cancelled.", details={"status": status})


class EventAlreadyStarted(TicketingRefusal):
    def __init__(self, starts_at: datetime) -> None:
        super().__init__(
            "The event has started; only its host can cancel the ticket now.",
            details={"event_starts_at": starts_at.isoformat()},
        )


class DoorRateLimited(TicketingRefusal):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            "Too many failed check-ins or lookups; wait before trying again.",
            details={"retry_after_seconds": retry_after_seconds},
            headers={"Retry-After": str(retry_after_seconds)},
        )


def refuse_scan(
    ticket: GateTicket, gate: CheckInList, direction: Direction, at: datetime
) -> Exception | None:
    """Why a gate does not let this scan through now; None when it would."""
    match gate_refusal(ticket, gate, at):
        case None:
            pass
        case ScanRefusal.WRONG_LIST:
            return NotOnList(gate.id, ticket.ticket_type_id)
        case ScanRefusal.LIST_CLOSED:
            return ListClosed(gate)
        case _:
            return TicketNotActive(ticket.status)
    if direction == Direction.OUT:
        return None if ticket.is_inside else NotInside()
    if ticket.is_inside or (ticket.is_checked_in and not gate.allow_reentry):
        return AlreadyCheckedIn(ticket.checked_in_at)
    return None


def refuse_check_in(ticket: DoorTicket) -> Exception:
    """Why a ticket the atomic update did not admit was refused."""
    if ticket.status != TicketStatus.ACTIVE:
        return TicketNotActive(ticket.status)
    return AlreadyCheckedIn(ticket.checked_in_at)


CANCELLABLE = frozenset({TicketStatus.PENDING, TicketStatus.ACTIVE})


def authorize_cancel(ticket: DoorTicket, actor: Actor, now: datetime) -> None:
    """The holder before the event starts; the host or an admin at any time."""
    if not actor.runs(ticket.host_id):
        if actor.user_id != ticket.user_id:
            raise TicketNotFound("No such ticket.")
        if now >= ticket.event_starts_at:
            raise EventAlreadyStarted(ticket.event_starts_at)
    if ticket.status not in CANCELLABLE:
        raise NotCancellable(ticket.status)
    # Whoever came in stays on record: a checked-in ticket is never cancelled.
    if ticket.is_checked_in:
        raise AlreadyCheckedIn(ticket.checked_in_at)


def refund_due(ticket: DoorTicket) -> int:
    """A paid, active ticket that is cancelled gets its price back; a hold had nothing paid."""
    active = ticket.status == TicketStatus.ACTIVE
    return ticket.price_paid if active and ticket.price_paid > 0 else 0
