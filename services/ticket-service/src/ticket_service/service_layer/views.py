"""Reading: a ticket, a transaction or an event, and the buyer's pages of tickets and orders."""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from ticket_service.domain.door import Actor
from ticket_service.domain.entities import Ticket, TicketedEvent, TicketTransaction
from ticket_service.domain.errors import EventNotFound, TicketNotFound, TransactionNotFound
from ticket_service.domain.tickets import TicketStatus

PagePosition = tuple[datetime, UUID]
"""Keyset position: the last item's created_at and id."""


class TicketReader(Protocol):
    async def ticket(self, ticket_id: str) -> Ticket | None: ...

    async def tickets_of_user(
        self, user_id: str, *, after: PagePosition | None, limit: int, status: TicketStatus | None
    ) -> list[Ticket]: ...

    async def transaction(self, transaction_id: str) -> TicketTransaction | None: ...

    async def transactions_of_user(
        self, user_id: str, *, after: PagePosition | None, limit: int
    ) -> list[TicketTransaction]: ...

    async def event(self, event_id: str) -> TicketedEvent | None: ...


@dataclass(frozen=True)
class TicketPage:
    tickets: list[Ticket]
    next_after: PagePosition | None


@dataclass(frozen=True)
class TransactionPage:
    transactions: list[TicketTransaction]
    next_after: PagePosition | None


def _may_see(viewer: Actor, owner_id: str) -> bool:
    return viewer.user_id == owner_id or viewer.is_admin


async def ticket_for(reader: TicketReader, ticket_id: str, *, viewer: Actor) -> Ticket:
    """The ticket, for its holder or an admin; anyone else's is not found."""
    ticket = await reader.ticket(ticket_id)
    if ticket is None or not _may_see(viewer, ticket.user_id):
        raise TicketNotFound("No such ticket.")
    return ticket


async def transaction_for(
    reader: TicketReader, transaction_id: str, *, viewer: Actor
) -> TicketTransaction:
    transaction = await reader.transaction(transaction_id)
    if transaction is None or not _may_see(viewer, transaction.user_id):
        raise TransactionNotFound("No such transaction.")
    return transaction


async def tickets_of(
    reader: TicketReader,
    user_id: str,
    *,
    after: PagePosition | None,
    limit: int,
    status: TicketStatus | None = None,
) -> TicketPage:
    """The buyer's tickets, newest first."""
    found = await reader.tickets_of_user(user_id, after=after, limit=limit + 1, status=status)
    page = found[:limit]
    more = len(found) > limit
    return TicketPage(page, (page[-1].created_at, UUID(page[-1].id)) if more else None)


async def transactions_of(
    reader: TicketReader, user_id: str, *, after: PagePosition | None, limit: int
) -> TransactionPage:
    found = await reader.transactions_of_user(user_id, after=after, limit=limit + 1)
    page = found[:limit]
    more = len(found) > limit
    return TransactionPage(page, (page[-1].created_at, UUID(page[-1].id)) if more else None)


async def ticketed_event(reader: TicketReader, event_id: str) -> TicketedEvent:
    event = await reader.event(event_id)
    if event is None:
        raise EventNotFound("No ticketed event with this id.")
    return event
