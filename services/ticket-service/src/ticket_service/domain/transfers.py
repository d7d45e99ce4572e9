"""Official ticket transfer: the host's rules, an offer to a named person, and its acceptance."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from ticket_service.domain.door import AlreadyCheckedIn, DoorTicket
from ticket_service.domain.errors import TicketingRefusal
from ticket_service.domain.tickets import TicketStatus


class TransferStatus(StrEnum):
    OFFERED = "offered"  # waiting for the receiver to accept
    ACCEPTED = "accepted"  # the ticket moved to the receiver
    WITHDRAWN = "withdrawn"  # the holder took the offer back
    EXPIRED = "expired"  # not accepted in time


@dataclass(frozen=True, kw_only=True)
class TransferPolicy:
    """What the host allows: transfers at all, until when, and how many per ticket."""

    allowed: bool = True
    deadline: datetime | None = None  # None: until the event starts
    max_transfers_per_ticket: int = 1

    def closes_at(self, event_starts_at: datetime) -> datetime:
        """The deadline never lies after the event's start."""
        if self.deadline is None:
            return event_starts_at
        return min(self.deadline, event_starts_at)


@dataclass(frozen=True, kw_only=True)
class TransferableTicket:
    """A ticket with what the transfer rules need: its event's policy and its transfer count."""

    ticket: DoorTicket
    holder_name: str
    holder_email: str
    policy: TransferPolicy
    transfer_count: int


@dataclass(frozen=True, kw_only=True)
class Transfer:
    """One entry of a ticket's transfer trail."""

    id: str
    ticket_id: str
    event_id: str
    from_user_id: str
    from_name: str
    from_email: str
    to_name: str
    to_email: str
    to_user_id: str | None
    status: TransferStatus
    expires_at: datetime
    created_at: datetime
    accepted_at: datetime | None
    withdrawn_at: datetime | None

    def standing(self, now: datetime) -> TransferStatus:
        """An offer past its expiry reads as expired even before anything marks it so."""
        if self.status is TransferStatus.OFFERED and now >= self.expires_at:
            return TransferStatus.EXPIRED
        return self.status


class TicketNotTransferable(TicketingRefusal):
    def __init__(self, status: TicketStatus) -> None:
        super().__init__(
            f"This ticket is {status}, not active; it cannot be transferred.",
            details={"status": status},
        )


class TransfersNotAllowed(TicketingRefusal):
    def __init__(self) -> None:
        super().__init__("The host does not allow ticket transfers for this event.")


class TransferDeadlinePassed(TicketingRefusal):
    def __init__(self, deadline: datetime) -> None:
        super().__init__(
            "The deadline for transferring tickets of this event has passed.",
            details={"deadline": deadline.isoformat()},
        )


class TransferLimitReached(TicketingRefusal):
    def __init__(self, limit: int) -> None:
        super().__init__(
            f"This ticket was already transferred the most times the host allows ({limit}).",
            details={"max_transfers_per_ticket": limit},
        )


class TransferAlreadyOffered(TicketingRefusal):
    def __init__(self, transfer_id: str) -> None:
        super().__init__(
            "This ticket already has an open transfer offer; withdraw it first.",
            details={"transfer_id": transfer_id},
        )


class TransferNotFound(TicketingRefusal):
    pass


class TransferNotOpen(TicketingRefusal):
    def __init__(self, status: TransferStatus) -> None:
        super().__init__(
            f"This transfer is {status}; it cannot be accepted.", details={"status": status}
        )


class TransferToSelf(TicketingRefusal):
    def __init__(self) -> None:
        super().__init__("You already hold this ticket.")


def refuse_transfer(ticket: TransferableTicket, now: datetime) -> TicketingRefusal | None:
    """Why this ticket cannot change hands now, or None when it can."""
    door = ticket.ticket
    if door.status != TicketStatus.ACTIVE:
        return TicketNotTransferable(door.status)
    if door.is_checked_in:
        return AlreadyCheckedIn(door.checked_in_at)
    policy = ticket.policy
    if not policy.allowed:
        return TransfersNotAllowed()
    closes_at = policy.closes_at(door.event_starts_at)
    if now >= closes_at:
        return TransferDeadlinePassed(closes_at)
    if ticket.transfer_count >= policy.max_transfers_per_ticket:
        return TransferLimitReached(policy.max_transfers_per_ticket)
    return None


def offer_expiry(ticket: TransferableTicket, now: datetime, *, valid_for: timedelta) -> datetime:
    """An offer lasts `valid_for`, never past the transfer deadline."""
    return min(now + valid_for, ticket.policy.closes_at(ticket.ticket.event_starts_at))


def new_accept_token() -> str:
    """The secret the receiver accepts with: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What is stored and looked up: a leaked table gives no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()
