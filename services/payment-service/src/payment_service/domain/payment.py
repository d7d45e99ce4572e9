"""The payment of one order, as every use case sees it (the repository maps rows to it once)."""

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from payment_service.domain.errors import InvalidOrder
from payment_service.domain.model import PaymentState, PaymentStatus


@dataclass(frozen=True)
class Payment:
    order_id: str
    amount: int
    currency: str
    user_id: str
    ticket_id: str
    event_id: str
    customer: dict[str, Any]
    items: list[dict[str, Any]]
    metadata: dict[str, Any]
    expires_at: datetime
    snap_token: str | None
    redirect_url: str | None
    snap_token_expires_at: datetime | None
    status: PaymentStatus
    transaction_status: str | None
    fraud_status: str | None
    payment_type: str | None
    transaction_id: str | None
    refunded_amount: int
    settled_at: datetime | None
    flagged_at: datetime | None
    flag_reason: str | None
    close_requested_at: datetime | None
    created_at: datetime
    updated_at: datetime
    event_sequence: int = 0  # the last sequence number its events were published with
    purchase_order_id: str | None = None  # ticket-service's order (None: a pre-order payment)
    ticket_ids: tuple[str, ...] = ()  # every ticket the payment pays for, the first one first

    @property
    def version(self) -> str:
        """Changes with every write to the payment (a status change, a token): what a copy of
        something derived from it (Midtrans' cached answer) is keyed by."""
        return self.updated_at.isoformat()

    @property
    def tickets(self) -> tuple[str, ...]:
        """The tickets it pays for; a payment stored before orders pays for its one ticket."""
        return self.ticket_ids or (self.ticket_id,)

    @property
    def state(self) -> PaymentState:
        return PaymentState(self.status, self.amount, self.refunded_amount, self.currency)

    def event_facts(self) -> dict[str, Any]:
        """What every payment event (v3) says about this payment, its order and its tickets."""
        return {
            "order_id": self.order_id,
            "ticket_id": self.ticket_id,
            "event_id": self.event_id,
            "user_id": self.user_id,
            "amount": self.amount,
            "currency": self.currency,
            "payment_type": self.payment_type,
            "transaction_id": self.transaction_id,
            "customer_name": self.customer.get("name", ""),
            "customer_email": self.customer.get("email", ""),
            "event_title": self.metadata.get("event_title"),
            "event_starts_at": self.metadata.get("event_starts_at"),
            "purchase_order_id": self.purchase_order_id,
            "ticket_ids": list(self.tickets),
        }


@dataclass(frozen=True)
class PaymentRequest:
    """What an order's payment is opened with (stored as sent, checked on every reopening)."""

    order_id: str
    amount: int
    currency: str
    user_id: str
    ticket_id: str
    event_id: str
    customer: dict[str, Any]
    items: list[dict[str, Any]]
    metadata: dict[str, Any]
    expires_at: datetime
    purchase_order_id: str | None = None
    ticket_ids: tuple[str, ...] = ()


def order_tickets(ticket_id: str, ticket_ids: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The order's tickets, the first one first (`ticket_id`); InvalidOrder if they disagree."""
    tickets = tuple(ticket_ids) or (ticket_id,)
    if tickets[0] != ticket_id:
        raise InvalidOrder(f"ticket_ids must start with ticket_id {ticket_id}.")
    if len(set(tickets)) != len(tickets):
        raise InvalidOrder("ticket_ids names a ticket twice.")
    return tickets


PAYMENT_FIELDS = tuple(f.name for f in fields(Payment))
