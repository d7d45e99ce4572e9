"""Payloads of the integration events.

Money is integer rupiah (`amount`, `price_paid`): IDR has no minor unit in Midtrans, and an int
cannot round. Times are timezone-aware ISO 8601. Each payload carries what its consumers need
without calling back: ids, amount, the holder's name and email, and the event's title and start.
Consumers ignore fields they do not know; changes are additive; a breaking change is a new VERSION.
"""

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from ticketing_contracts.routing import EventType

Rupiah = int


class EventPayload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    EVENT_TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1


class _TicketFacts(EventPayload):
    """What every ticket event says about the ticket, its holder and the event."""

    ticket_id: str
    event_id: str
    user_id: str
    order_id: str | None = None
    attendance_code: str
    holder_name: str
    holder_email: str
    event_title: str
    event_starts_at: datetime
    event_venue: str | None = None
    host_id: str | None = None


class _PaymentFacts(EventPayload):
    """What every payment event says about the order and who pays for what."""

    order_id: str
    ticket_id: str
    event_id: str
    user_id: str
    amount: Rupiah = Field(ge=0)
    currency: str = "IDR"
    payment_type: str | None = None
    transaction_id: str | None = None
    customer_name: str
    customer_email: str
    event_title: str | None = None
    event_starts_at: datetime | None = None


class VirtualAccount(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    bank: str
    va_number: str


class PaymentInstructions(BaseModel):
    """How to finish an asynchronous payment (bank transfer, Mandiri bill, convenience store)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    va_numbers: list[VirtualAccount] = Field(default_factory=list)
    permata_va_number: str | None = None
    biller_code: str | None = None
    bill_key: str | None = None
    store: str | None = None
    payment_code: str | None = None


class PaymentPending(_PaymentFacts):
    EVENT_TYPE: ClassVar[str] = EventType.PAYMENT_PENDING

    expires_at: datetime | None = None
    instructions: PaymentInstructions | None = None


class PaymentSettled(_PaymentFacts):
    EVENT_TYPE: ClassVar[str] = EventType.PAYMENT_SETTLED

    settled_at: datetime


class PaymentFailed(_PaymentFacts):
    EVENT_TYPE: ClassVar[str] = EventType.PAYMENT_FAILED

    transaction_status: Literal["deny", "cancel", "expire", "failure"]
    reason: str | None = None


class PaymentRefunded(_PaymentFacts):
    EVENT_TYPE: ClassVar[str] = EventType.PAYMENT_REFUNDED

    refund_amount: Rupiah = Field(ge=0)
    refunded_total: Rupiah = Field(ge=0)
    fully_refunded: bool
    transaction_status: Literal["refund", "partial_refund", "chargeback", "partial_chargeback"]
    reason: str | None = None


class TicketActivated(_TicketFacts):
    EVENT_TYPE: ClassVar[str] = EventType.TICKET_ACTIVATED

    price_paid: Rupiah = Field(ge=0)
    currency: str = "IDR"
    activated_at: datetime
    qr_payload: str = Field(description="Signed QR content, as printed on the e-ticket")


class TicketCancelled(_TicketFacts):
    EVENT_TYPE: ClassVar[str] = EventType.TICKET_CANCELLED

    cancelled_at: datetime
    cancelled_by: str = Field(description="user id, or 'system'")
    reason: str


class TicketExpired(_TicketFacts):
    EVENT_TYPE: ClassVar[str] = EventType.TICKET_EXPIRED

    expired_at: datetime


class TicketCheckedIn(_TicketFacts):
    EVENT_TYPE: ClassVar[str] = EventType.TICKET_CHECKED_IN

    checked_in_at: datetime
    checked_in_by: str


class TicketRefundRequested(_TicketFacts):
    EVENT_TYPE: ClassVar[str] = EventType.TICKET_REFUND_REQUESTED

    amount: Rupiah = Field(ge=0)
    currency: str = "IDR"
    reason: str


PAYLOAD_MODELS: dict[tuple[str, int], type[EventPayload]] = {
    (model.EVENT_TYPE, model.VERSION): model
    for model in (
        PaymentPending,
        PaymentSettled,
        PaymentFailed,
        PaymentRefunded,
        TicketActivated,
        TicketCancelled,
        TicketExpired,
        TicketCheckedIn,
        TicketRefundRequested,
    )
}
