"""In-memory fakes the handler tests share: a ticket factory, the ticket.* outbox, payments
and the rate limiter."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from servicekit.rate_limit import RateDecision
from ticket_service.domain.entities import EventFacts, Ticket
from ticket_service.domain.tickets import TicketStatus, order_id_for
from ticketing_contracts.internal_payments import OpenedPayment, OpenPaymentRequest

NOW = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
EVENT_ID = "6f1c0a9e-3d1b-4c55-9a57-0c7f7f3e9b21"


def a_ticket(ticket_id: str, **overrides: Any) -> Ticket:
    """A pending paid ticket of EVENT_ID; any field may be overridden."""
    fields: dict[str, Any] = {
        "id": ticket_id,
        "user_id": "user-7",
        "event_id": EVENT_ID,
        "attendance_code": "A3F7",
        "price_paid": 150_000,
        "currency": "IDR",
        "status": TicketStatus.PENDING,
        "holder_name": "Siti Rahma",
        "holder_email": "siti@example.id",
        "holder_phone": None,
        "purchased_at": NOW,
        "hold_expires_at": NOW + timedelta(minutes=15),
        "activated_at": None,
        "is_checked_in": False,
        "checked_in_at": None,
        "checked_in_by": None,
        "cancelled_at": None,
        "cancel_reason": None,
        "created_at": NOW,
        "updated_at": NOW,
        "event": EventFacts(
            EVENT_ID, "Jazz di Taman Menteng", NOW + timedelta(days=10), "Taman Menteng", "host-1"
        ),
        "order_id": order_id_for(ticket_id),
        "payment_link": None,
        "last_payment_attempt": None,
        "refund": None,
    }
    return Ticket(**{**fields, **overrides})


@dataclass
class FakeTicketEvents:
    """The outbox: which ticket.* event was written for which ticket, in order."""

    emitted: list[tuple[str, str]] = field(default_factory=list)

    async def activated(self, ticket: Ticket, *, at: datetime) -> None:
        self.emitted.append(("ticket.activated", ticket.id))

    async def transferred(self, ticket: Ticket, *, at: datetime) -> None:
        self.emitted.append(("ticket.activated", ticket.id))

    async def cancelled(self, ticket: Ticket, *, at: datetime, by: str, reason: str) -> None:
        self.emitted.append(("ticket.cancelled", ticket.id))

    async def expired(self, ticket: Ticket, *, at: datetime) -> None:
        self.emitted.append(("ticket.expired", ticket.id))

    async def refund_requested(self, ticket: Ticket, *, amount: int, reason: str) -> None:
        self.emitted.append(("ticket.refund_requested", ticket.id))

    async def checked_in(self, ticket: Ticket) -> None:
        self.emitted.append(("ticket.checked_in", ticket.id))


@dataclass
class FakePayments:
    failure: Exception | None = None
    requests: list[OpenPaymentRequest] = field(default_factory=list)

    async def open_payment(self, request: OpenPaymentRequest) -> OpenedPayment:
        self.requests.append(request)
        if self.failure is not None:
            raise self.failure
        return OpenedPayment(
            order_id=request.order_id,
            snap_token="snap-1",
            redirect_url="https://app.sandbox.midtrans.com/snap/v4/redirection/snap-1",
            expires_at=request.expires_at,
        )


@dataclass
class FakeLimiter:
    allowed: bool = True
    attempts: int = 0

    async def attempt(self, key: str) -> RateDecision:
        self.attempts += 1
        return RateDecision(allowed=self.allowed, retry_after_seconds=42)
