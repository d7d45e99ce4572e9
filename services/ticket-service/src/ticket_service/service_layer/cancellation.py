"""Cancelling a ticket: the holder before the event, the host or an admin at any time."""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ticket_service.domain.door import (
    Actor,
    DoorTicket,
    TicketNotFound,
    authorize_cancel,
    refund_due,
)
from ticket_service.service_layer.ports import Transactional


class RefundRequests(Protocol):
    async def request_refund(self, ticket: DoorTicket, *, amount: int, reason: str) -> None:
        """Write `ticket.refund_requested` with the ticket's share for payment-service."""


class CancellationRepository(Transactional, RefundRequests, Protocol):
    async def ticket(self, ticket_id: str, *, lock: bool = False) -> DoorTicket | None: ...

    async def cancel(self, ticket: DoorTicket, *, by: str, reason: str) -> DoorTicket:
        """Mark the ticket cancelled, free its seat or hold, and write `ticket.cancelled`."""


@dataclass(frozen=True)
class CancelTicket:
    ticket_id: str
    actor: Actor
    reason: str | None = None


@dataclass(frozen=True)
class Cancelled:
    ticket: DoorTicket
    refund_requested: int


async def cancel_ticket(
    repo: CancellationRepository, command: CancelTicket, *, now: datetime
) -> Cancelled:
    async with repo.transaction():
        ticket = await repo.ticket(command.ticket_id, lock=True)
        if ticket is None:
            raise TicketNotFound("No such ticket.")
        authorize_cancel(ticket, command.actor, now)
        by_holder = not command.actor.runs(ticket.host_id)
        reason = command.reason or (
            "cancelled by the holder" if by_holder else "cancelled by the host"
        )
        cancelled = await repo.cancel(ticket, by=command.actor.user_id, reason=reason)
        refund = await request_refund_due(repo, ticket, reason=reason)
    return Cancelled(cancelled, refund)


async def request_refund_due(repo: RefundRequests, ticket: DoorTicket, *, reason: str) -> int:
    """Ask for a just-cancelled ticket's refund when one is due; the amount asked, or 0."""
    refund = refund_due(ticket)
    if refund:
        await repo.request_refund(ticket, amount=refund, reason=reason)
    return refund
