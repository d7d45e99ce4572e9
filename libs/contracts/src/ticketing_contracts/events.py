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
QR_PAYLOAD = (
    "Signed QR content, as printed on the e-ticket. Since issue 15 the event's Ed25519 QR,"
    " `TKT2.<event_id>.<ticket_id>.<attendance_code>.<ticket_type_id or ->.<key_id>.<signature>`"
    " (base64url, no padding, over everything before the last dot): a scanner verifies it"
    " offline with the event's public key (ticket-service `GET /events/{id}/check-in-key`)."
    " Older messages carry the HMAC `TKT1.<ticket_id>.<attendance_code>.<key_id>.<signature>`,"
    " which only ticket-service verifies (online check-in)."
)


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
    qr_payload: str = Field(description=QR_PAYLOAD)


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


# Version 3 of the payment events, and v2 of the ticket events (issue 14: orders). A payment pays
# for an order of one or more tickets; each event now names the order (`purchase_order_id`, the
# ticket-service order, distinct from Midtrans' `order_id`) and all of its tickets. `ticket_id`
# stays, as the order's first ticket, so every older reader keeps working: these versions only
# add fields to the ones before them.


class _OrderFacts(BaseModel):
    """What an order-aware event adds: the order and every ticket it holds."""

    purchase_order_id: str | None = Field(
        default=None, description="ticket-service's order id (None for a pre-order payment)"
    )
    ticket_ids: list[str] = Field(
        default_factory=list, description="every ticket of the order, the first one first"
    )


class PaymentPendingV3(_OrderFacts, PaymentPendingV2):
    VERSION: ClassVar[int] = 3


class PaymentSettledV3(_OrderFacts, PaymentSettledV2):
    VERSION: ClassVar[int] = 3


class PaymentFailedV3(_OrderFacts, PaymentFailedV2):
    VERSION: ClassVar[int] = 3


class PaymentRefundedV3(_OrderFacts, PaymentRefundedV2):
    VERSION: ClassVar[int] = 3


class PaymentDeclinedV2(_OrderFacts, PaymentDeclined):
    VERSION: ClassVar[int] = 2


class PaymentRefundUpdatedV2(_OrderFacts, PaymentRefundUpdated):
    VERSION: ClassVar[int] = 2

    refunded_ticket_ids: list[str] = Field(
        default_factory=list,
        description="the tickets this refund pays back (empty: the whole order)",
    )


class _TicketInOrder(BaseModel):
    """What a v2 ticket event adds: its type and its order."""

    ticket_type_id: str | None = None
    ticket_type_name: str | None = None
    purchase_order_id: str | None = None
    order_size: int = Field(default=1, ge=1, description="tickets in the ticket's order")


class TicketActivatedV2(_TicketInOrder, TicketActivated):
    VERSION: ClassVar[int] = 2

    transferred: bool = Field(
        default=False,
        description="active again for a new holder after an official transfer (new code and QR):"
        " their e-ticket goes to them alone, not with the order's announcement",
    )


class TicketCancelledV2(_TicketInOrder, TicketCancelled):
    VERSION: ClassVar[int] = 2


class TicketExpiredV2(_TicketInOrder, TicketExpired):
    VERSION: ClassVar[int] = 2


class TicketCheckedInV2(_TicketInOrder, TicketCheckedIn):
    VERSION: ClassVar[int] = 2


class TicketCheckedInV3(TicketCheckedInV2):
    """A scan at a gate (issue 15): which list, which way, when it was made and whether offline.

    `checked_in_at` stays the ticket's first admission; a re-entry or an exit has `reentry` or
    `direction` "out". The holder is told of the first entry only; the host's stream of all.
    """

    VERSION: ClassVar[int] = 3

    list_id: str = "default"
    direction: Literal["in", "out"] = "in"
    reentry: bool = False
    scanned_at: datetime | None = None
    offline: bool = False


class TicketRefundRequestedV2(_TicketInOrder, TicketRefundRequested):
    """`amount` is this ticket's share of what was paid (its price less its share of a discount)."""

    VERSION: ClassVar[int] = 2


class OrderTicket(BaseModel):
    """One e-ticket of an activated order, with what its e-mail needs."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    ticket_id: str
    attendance_code: str
    holder_name: str
    holder_email: str
    ticket_type_id: str | None = None
    ticket_type_name: str | None = None
    price_paid: Rupiah = Field(ge=0)
    qr_payload: str = Field(description=QR_PAYLOAD)


class OrderActivated(EventPayload):
    """Every ticket of an order is active (paid, or free): the buyer is told once per order.

    Published after the order's `ticket.activated` events, in the same transaction. The buyer
    gets one e-mail with every e-ticket; each attendee whose e-mail differs gets their own.
    """

    EVENT_TYPE: ClassVar[str] = EventType.ORDER_ACTIVATED

    purchase_order_id: str
    order_id: str | None = Field(default=None, description="Midtrans order id (None when free)")
    event_id: str
    user_id: str
    customer_name: str
    customer_email: str
    total: Rupiah = Field(ge=0)
    discount: Rupiah = Field(default=0, ge=0)
    currency: str = "IDR"
    promo_code: str | None = None
    event_title: str
    event_starts_at: datetime
    event_venue: str | None = None
    host_id: str | None = None
    activated_at: datetime
    tickets: list[OrderTicket] = Field(min_length=1)


class WaitlistOffered(EventPayload):
    """Seats came back and are held for the next person on a type's waiting list (issue 16).

    They stay held for this user until `expires_at`; `POST /waitlist/offers/{offer_id}/accept`
    turns them into an order with its payment. Not taken in time, they pass to the next entry.
    """

    EVENT_TYPE: ClassVar[str] = EventType.WAITLIST_OFFERED

    offer_id: str
    event_id: str
    ticket_type_id: str
    ticket_type_name: str | None = None
    user_id: str
    customer_name: str
    customer_email: str
    seats: int = Field(ge=1)
    price: Rupiah = Field(ge=0, description="per seat")
    currency: str = "IDR"
    expires_at: datetime
    event_title: str
    event_starts_at: datetime
    event_venue: str | None = None
    host_id: str | None = None


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
        PaymentPendingV3,
        PaymentSettledV3,
        PaymentFailedV3,
        PaymentRefundedV3,
        PaymentDeclinedV2,
        PaymentRefundUpdatedV2,
        TicketActivatedV2,
        TicketCancelledV2,
        TicketExpiredV2,
        TicketCheckedInV2,
        TicketCheckedInV3,
        TicketRefundRequestedV2,
        OrderActivated,
        WaitlistOffered,
    )
}
