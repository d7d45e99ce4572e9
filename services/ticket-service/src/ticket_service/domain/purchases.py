"""A purchase's values: the Idempotency-Key's record and the hold to write."""

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ticket_service.domain.entities import TicketedEvent
from ticket_service.domain.errors import IdempotencyKeyReused, PurchaseInProgress

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


@dataclass(frozen=True)
class PurchaseRequest:
    """An Idempotency-Key's row: the request it was first used for, its ticket, its answer."""

    fingerprint: str
    ticket_id: str | None
    answered: bool
    order_id: str | None = None


def request_fingerprint(command: "DataclassInstance") -> str:
    """What a key's first request is known by: every field of the command but the key."""
    fields = asdict(command)
    fields.pop("idempotency_key")
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def same_earlier_request(
    earlier: PurchaseRequest | None, fingerprint: str, *, key_reused: str
) -> PurchaseRequest:
    """A retried key's first request, which must still stand and be this very request."""
    if earlier is None:  # the first attempt failed and forgot the key meanwhile
        raise PurchaseInProgress("The first request with this key just failed; retry it.")
    if earlier.fingerprint != fingerprint:
        raise IdempotencyKeyReused(key_reused)
    return earlier


@dataclass(frozen=True)
class PaidSeat:
    """A paid seat to hold at the price the buyer saw: every check is the hold's own."""

    event_id: str
    buyer_id: str
    holder_name: str
    holder_email: str
    holder_phone: str | None
    price: int
    hold_minutes: float
    now: datetime
    idempotency_key: str | None
    fingerprint: str


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
