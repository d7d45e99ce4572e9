"""An order as payment events see it: where its payment stands, its last attempt and its refund."""

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from ticket_service.domain.tickets import TicketStatus, TransactionStatus


class Standing(StrEnum):
    """What a payment event says about the money, which decides what the ticket becomes."""

    PAID = "paid"  # the money is ours: the ticket should be active
    RETURNING = "returning"  # a full refund is under way: the ticket must not be valid
    RETURNED = "returned"  # the money went back (refund, chargeback): the ticket ends refunded
    FAILED = "failed"  # never paid, or reversed after payment: the ticket ends cancelled
    OPEN = "open"  # nothing final (a declined card attempt the buyer may retry)


PAID_STATUSES = frozenset({"captured", "settled", "partially_refunded", "partially_charged_back"})
"""payment-service's payment_status values of a payment whose money we hold."""
RETURNED_STATUSES = frozenset({"refunded", "charged_back"})
REFUND_IN_FLIGHT = frozenset({"requested", "pending", "awaiting_payout"})
REFUND_DONE = frozenset({"succeeded", "paid_out"})


def refund_standing(
    *, payment_status: str, refund_status: str, refund_amount: int, order_amount: int
) -> Standing:
    """The standing a refund update implies (payment.refund_updated)."""
    if payment_status in RETURNED_STATUSES:
        return Standing.RETURNED
    full = refund_amount >= order_amount
    if full and refund_status in REFUND_DONE:
        return Standing.RETURNED
    if full and refund_status in REFUND_IN_FLIGHT:
        return Standing.RETURNING
    if refund_status != "failed" and payment_status in PAID_STATUSES:
        return Standing.PAID
    # A refund that failed for good leaves the money with us and the ticket as it is: an
    # admin must act (payment-service lists it).
    return Standing.OPEN


@dataclass(frozen=True)
class Progress:
    """A v2 payment event's place in its payment's history."""

    sequence: int
    payment_status: str


@dataclass(frozen=True)
class PaymentAttempt:
    result: str  # "declined" | "paid"
    reason: str | None
    at: datetime


@dataclass(frozen=True)
class Refund:
    """The latest known refund of an order, as the buyer sees it."""

    id: str | None
    amount: int
    method: str  # "api" | "payout"
    status: str  # requested | pending | succeeded | awaiting_payout | paid_out | failed
    reason: str | None
    reference: str | None
    updated_at: datetime
    sequence: int | None = None


@dataclass(frozen=True)
class OrderedTicket:
    """One ticket of a payment's order, as a payment event moves it."""

    ticket_id: str
    status: TicketStatus
    cancel_reason: str | None
    refund_requested: bool
    share: int
    """What the ticket paid: its price less its share of the order's discount."""
    ticket_type_id: str | None = None


@dataclass(frozen=True)
class Order:
    """A payment's order: its transaction and (`ticket_*`) the ticket being moved, all locked.

    `tickets` lists every ticket the payment pays for (empty: the order is its one ticket);
    every rule applies to each of them in turn.
    """

    order_id: str
    ticket_id: str
    transaction_id: str
    event_id: str
    ticket_status: TicketStatus
    transaction_status: TransactionStatus
    amount: int
    refund_requested: bool
    cancel_reason: str | None
    payment_sequence: int | None
    refund_sequence: int | None
    tickets: tuple[OrderedTicket, ...] = ()
    ticket_type_id: str | None = None
    purchase_order_id: str | None = None
    """The order (issue 14) the payment pays for; None for a bare ticket of the seed."""

    def for_ticket(self, ticket: OrderedTicket) -> "Order":
        return replace(
            self,
            ticket_id=ticket.ticket_id,
            ticket_status=ticket.status,
            cancel_reason=ticket.cancel_reason,
            refund_requested=ticket.refund_requested,
            ticket_type_id=ticket.ticket_type_id,
        )

    def is_stale(self, progress: Progress) -> bool:
        """An event not newer than the newest applied one changes nothing."""
        return self.payment_sequence is not None and progress.sequence <= self.payment_sequence

    def refund_is_stale(self, sequence: int | None) -> bool:
        if self.refund_sequence is None:
            return False
        # A v1 event (no sequence) never overwrites what a v2 refund update said.
        return sequence is None or sequence <= self.refund_sequence
