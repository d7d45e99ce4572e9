"""The entities the adapters map rows to once: a ticketed event, a ticket, its transaction."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ticket_service.domain.payments import PaymentAttempt, Refund
from ticket_service.domain.ticketed_events import SaleWindow, Seats
from ticket_service.domain.tickets import TicketStatus, TransactionStatus


@dataclass(frozen=True, kw_only=True)
class EventTerms:
    """What a host sets: what and where, when, the price, the seats and the sale window."""

    title: str
    venue: str
    starts_at: datetime
    price: int
    currency: str
    capacity: int
    sales_start: datetime | None
    sales_end: datetime | None
    max_per_user: int | None
    max_per_order: int | None = None


@dataclass(frozen=True, kw_only=True)
class TicketedEvent(EventTerms):
    """An event on sale: its host and terms, and the seats sold and held so far."""

    id: str
    host_id: str
    sold: int
    held: int
    created_at: datetime
    updated_at: datetime

    @property
    def seats(self) -> Seats:
        return Seats(capacity=self.capacity, sold=self.sold, held=self.held)

    @property
    def sale_window(self) -> SaleWindow:
        return SaleWindow(self.starts_at, self.sales_start, self.sales_end)

    @property
    def is_free(self) -> bool:
        return self.price == 0


@dataclass(frozen=True)
class EventFacts:
    """What a ticket shows of its event."""

    id: str
    title: str
    starts_at: datetime
    venue: str
    host_id: str


@dataclass(frozen=True)
class PaymentLink:
    """The open Midtrans payment of a pending ticket, so the app can resume it."""

    order_id: str
    snap_token: str
    redirect_url: str
    expires_at: datetime | None


@dataclass(frozen=True)
class Ticket:
    """A ticket with its event's facts and where its order's payment stands."""

    id: str
    user_id: str
    event_id: str
    attendance_code: str
    price_paid: int
    currency: str
    status: TicketStatus
    holder_name: str
    holder_email: str
    holder_phone: str | None
    purchased_at: datetime
    hold_expires_at: datetime | None
    activated_at: datetime | None
    is_checked_in: bool
    checked_in_at: datetime | None
    checked_in_by: str | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    created_at: datetime
    updated_at: datetime
    event: EventFacts
    order_id: str | None
    payment_link: PaymentLink | None
    last_payment_attempt: PaymentAttempt | None
    refund: Refund | None
    ticket_type_id: str | None = None
    ticket_type_name: str | None = None
    purchase_order_id: str | None = None
    order_size: int = 1

    @property
    def pending_payment(self) -> PaymentLink | None:
        return self.payment_link if self.status == TicketStatus.PENDING else None


@dataclass(frozen=True)
class TicketTransaction:
    """The order of a ticket: what was charged, how, and where its payment and refund stand."""

    id: str
    ticket_id: str
    user_id: str
    event_id: str
    order_id: str
    amount: int
    currency: str
    status: TransactionStatus
    payment_method: str | None
    payment_gateway_id: str | None
    payment_gateway_response: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    payment_status: str | None
    last_payment_attempt: PaymentAttempt | None
    refund: Refund | None
