"""The payment of one order, as every use case sees it (the repository maps rows to it once)."""

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

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

    @property
    def state(self) -> PaymentState:
        return PaymentState(self.status, self.amount, self.refunded_amount, self.currency)


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


PAYMENT_FIELDS = tuple(f.name for f in fields(Payment))
