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


# Version 2 of the payment events (issue 10). Each adds, to the v1 payload, where the payment
# stands and a per-payment sequence number, so a consumer applies only newer states and never
# relies on the broker's order. v2 only adds fields: a consumer that reads a payment event with
# its v1 model keeps working (every v1 field is still there).


class _PaymentProgress(BaseModel):
    """What every v2 payment event adds: the payment's state after the change, and its order."""

    sequence: int = Field(
        ge=1,
        description=(
            "Per payment (order_id), strictly increasing with each published change. A consumer "
            "that has applied sequence n ignores any event of that order with sequence <= n."
        ),
    )
    payment_status: str = Field(
        description=(
            "payment-service's status after this change: created, pending, challenge, captured, "
            "settled, partially_refunded, refunded, partially_charged_back, charged_back, "
            "denied, cancelled, expired, failed, reversed"
        )
    )


class PaymentPendingV2(_PaymentProgress, PaymentPending):
    VERSION: ClassVar[int] = 2


class PaymentSettledV2(_PaymentProgress, PaymentSettled):
    VERSION: ClassVar[int] = 2


class PaymentFailedV2(_PaymentProgress, PaymentFailed):
    VERSION: ClassVar[int] = 2


class PaymentRefundedV2(_PaymentProgress, PaymentRefunded):
    VERSION: ClassVar[int] = 2


class PaymentDeclined(_PaymentProgress, _PaymentFacts):
    """A card attempt was declined; in Snap the buyer may try again on the same order.

    Not an end: the ticket stays pending and its hold stands until it is paid or expires.
    """

    EVENT_TYPE: ClassVar[str] = EventType.PAYMENT_DECLINED

    reason: str | None = None


RefundMethod = Literal["api", "payout"]
RefundState = Literal[
    "requested",  # recorded, not yet sent to Midtrans
    "pending",  # Midtrans accepted it; the final refund notification has not come yet
    "succeeded",  # the money is back with the buyer (API refund confirmed)
    "awaiting_payout",  # the method cannot be refunded by API: an admin pays it out by hand
    "paid_out",  # an admin paid it out and recorded the transfer's reference
    "failed",  # Midtrans refused it for good; an admin must act
]


class PaymentRefundUpdated(_PaymentProgress, _PaymentFacts):
    """A refund of this payment was created or moved; the buyer sees it on the ticket."""

    EVENT_TYPE: ClassVar[str] = EventType.PAYMENT_REFUND_UPDATED

    refund_id: str
    refund_amount: Rupiah = Field(ge=0)
    method: RefundMethod
    refund_status: RefundState
    reason: str | None = None
    reference: str | None = Field(default=None, description="the payout's bank reference")


PAYLOAD_MODELS: dict[tuple[str, int], type[EventPayload]] = {
    (model.EVENT_TYPE, model.VERSION): model
    for model in (
        PaymentPending,
        PaymentSettled,
        PaymentFailed,
        PaymentRefunded,
        PaymentPendingV2,
        PaymentSettledV2,
        PaymentFailedV2,
        PaymentRefundedV2,
        PaymentDeclined,
        PaymentRefundUpdated,
        TicketActivated,
        TicketCancelled,
        TicketExpired,
        TicketCheckedIn,
        TicketRefundRequested,
    )
}
