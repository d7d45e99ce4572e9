"""Check-in lists (gates) and the rules of one scan: which tickets a gate admits, and when."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ticket_service.domain.errors import TicketingRefusal
from ticket_service.domain.tickets import TicketStatus

DEFAULT_LIST_ID = "default"


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


@dataclass(frozen=True, kw_only=True)
class GateTerms:
    """What a host sets for a gate; `ticket_type_ids` None admits every type."""

    name: str
    ticket_type_ids: frozenset[str] | None
    allow_reentry: bool
    opens_at: datetime | None
    closes_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class CheckInList(GateTerms):
    event_id: str
    id: str
    stored: bool = True

    def admits_type(self, ticket_type_id: str | None) -> bool:
        if self.ticket_type_ids is None:
            return True
        return ticket_type_id is not None and ticket_type_id in self.ticket_type_ids

    def is_open(self, at: datetime) -> bool:
        opened = self.opens_at is None or self.opens_at <= at
        return opened and (self.closes_at is None or at < self.closes_at)


def default_list(event_id: str) -> CheckInList:
    """Every event's gate when the host stored none under this id: all types, no re-entry."""
    return CheckInList(
        event_id=event_id,
        id=DEFAULT_LIST_ID,
        name="Default",
        ticket_type_ids=None,
        allow_reentry=False,
        opens_at=None,
        closes_at=None,
        stored=False,
    )


@dataclass(frozen=True)
class GateTicket:
    """What a gate decides on: the ticket's status, type and where its holder is."""

    id: str
    status: TicketStatus
    ticket_type_id: str | None
    is_checked_in: bool
    is_inside: bool
    checked_in_at: datetime | None


class InvalidCheckInList(TicketingRefusal):
    pass


class TicketTypeNotFound(TicketingRefusal):
    pass


class CheckInListNotFound(TicketingRefusal):
    def __init__(self, list_id: str) -> None:
        super().__init__(
            "This event has no check-in list with this id.", details={"list_id": list_id}
        )


class NotOnList(TicketingRefusal):
    def __init__(self, list_id: str, ticket_type_id: str | None) -> None:
        super().__init__(
            "This ticket's type does not enter through this gate.",
            details={"list_id": list_id, "ticket_type_id": ticket_type_id},
        )


class ListClosed(TicketingRefusal):
    def __init__(self, gate: CheckInList) -> None:
        opens = gate.opens_at.isoformat() if gate.opens_at else None
        closes = gate.closes_at.isoformat() if gate.closes_at else None
        super().__init__(
            "This gate is not open now.", details={"opens_at": opens, "closes_at": closes}
        )


class NotInside(TicketingRefusal):
    def __init__(self) -> None:
        super().__init__("This ticket's holder is not inside; an exit needs an entry first.")


def validate_terms(terms: GateTerms) -> None:
    if terms.opens_at and terms.closes_at and terms.opens_at >= terms.closes_at:
        raise InvalidCheckInList("opens_at must be before closes_at.")


class ScanRefusal(StrEnum):
    """Why a scan did not count, as an offline upload reports it."""

    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    EXPIRED = "expired"
    NOT_ACTIVE = "not_active"
    WRONG_LIST = "wrong_list"
    LIST_CLOSED = "list_closed"
    NOT_INSIDE = "not_inside"
    UNKNOWN_TICKET = "unknown_ticket"
    UNKNOWN_LIST = "unknown_list"


def status_refusal(status: TicketStatus) -> ScanRefusal | None:
    match status:
        case TicketStatus.ACTIVE:
            return None
        case TicketStatus.CANCELLED:
            return ScanRefusal.CANCELLED
        case TicketStatus.REFUNDED:
            return ScanRefusal.REFUNDED
        case TicketStatus.EXPIRED:
            return ScanRefusal.EXPIRED
        case _:
            return ScanRefusal.NOT_ACTIVE


def gate_refusal(ticket: GateTicket, gate: CheckInList, at: datetime) -> ScanRefusal | None:
    """Refusals that do not depend on earlier scans: status, type, opening hours."""
    by_status = status_refusal(ticket.status)
    if by_status is not None:
        return by_status
    if not gate.admits_type(ticket.ticket_type_id):
        return ScanRefusal.WRONG_LIST
    if not gate.is_open(at):
        return ScanRefusal.LIST_CLOSED
    return None
