"""Ticket and transaction states, and which moves between them are allowed."""

from enum import StrEnum


class TicketStatus(StrEnum):
    PENDING = "pending"  # seat held, payment not yet confirmed
    ACTIVE = "active"  # paid (or free): a valid ticket
    CANCELLED = "cancelled"  # payment failed, or cancelled by the holder, host or system
    EXPIRED = "expired"  # the hold ended unpaid; the seat went back on sale
    REFUNDED = "refunded"  # the money went back


class TransactionStatus(StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


ALLOWED_TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.PENDING: frozenset(
        {TicketStatus.ACTIVE, TicketStatus.CANCELLED, TicketStatus.EXPIRED}
    ),
    TicketStatus.ACTIVE: frozenset({TicketStatus.CANCELLED, TicketStatus.REFUNDED}),
    # A late payment takes the seat back when one is free; otherwise the ticket is cancelled
    # and the money goes back.
    TicketStatus.EXPIRED: frozenset({TicketStatus.ACTIVE, TicketStatus.CANCELLED}),
    # A cancelled ticket whose money was taken ends refunded.
    TicketStatus.CANCELLED: frozenset({TicketStatus.REFUNDED}),
    TicketStatus.REFUNDED: frozenset(),
}

SEAT_TAKING = frozenset({TicketStatus.PENDING, TicketStatus.ACTIVE})
"""States that occupy a seat: pending counts as held, active as sold."""


class IllegalTransition(Exception):
    def __init__(self, current: TicketStatus, target: TicketStatus) -> None:
        super().__init__(f"A {current} ticket cannot become {target}.")
        self.current = current
        self.target = target


def can_move(current: TicketStatus, target: TicketStatus) -> bool:
    return target in ALLOWED_TRANSITIONS[current]


def check_move(current: TicketStatus, target: TicketStatus) -> None:
    if not can_move(current, target):
        raise IllegalTransition(current, target)


def order_id_for(ticket_id: str) -> str:
    """The Midtrans order id of a ticket's purchase: stable, <= 50 chars, Midtrans-safe."""
    return f"TKT-{ticket_id}"
