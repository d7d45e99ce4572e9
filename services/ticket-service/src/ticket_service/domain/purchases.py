"""A purchase's values: the Idempotency-Key's record and the hold to write."""

from dataclasses import dataclass
from datetime import datetime

from ticket_service.domain.entities import TicketedEvent


@dataclass(frozen=True)
class PurchaseRequest:
    """An Idempotency-Key's row: the request it was first used for, its ticket, its answer."""

    fingerprint: str
    ticket_id: str | None
    answered: bool
    order_id: str | None = None


@dataclass(frozen=True)
class NewTicket:
    """A hold (or, free, a sale) to write: the ticket and its transaction."""

    event: TicketedEvent
    buyer_id: str
    holder_name: str
    holder_email: str
    holder_phone: str | None
    hold_expires_at: datetime | None
    now: datetime
