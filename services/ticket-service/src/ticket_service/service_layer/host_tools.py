"""The host's tools: the event's ticket list with counts, lookup by code, comps, holder fixes."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from ticket_service.domain.door import Actor, DoorTicket
from ticket_service.domain.entities import Ticket
from ticket_service.domain.errors import EventNotFound, NotEventHost, SoldOut, TicketNotFound
from ticket_service.domain.tickets import TicketStatus
from ticket_service.service_layer.ports import TicketEvents, Transactional


@dataclass(frozen=True)
class EventSeats:
    event_id: str
    host_id: str
    capacity: int
    sold: int
    held: int


HolderChanges = Mapping[str, str | None]
"""The holder's details to correct (holder_name, holder_email, holder_phone): only those sent."""


class HostToolsRepository(Transactional, Protocol):
    @property
    def events(self) -> TicketEvents: ...

    async def view(self, ticket_id: str, *, lock: bool = False) -> Ticket | None: ...

    async def ticket(self, ticket_id: str, *, lock: bool = False) -> DoorTicket | None: ...

    async def event_seats(self, event_id: str) -> EventSeats | None: ...

    async def checked_in_count(self, event_id: str) -> int: ...

    async def event_tickets(
        self,
        event_id: str,
        *,
        status: TicketStatus | None,
        checked_in: bool | None,
        after: tuple[datetime, UUID] | None,
        limit: int,
    ) -> Sequence[Ticket]: ...

    async def take_sold_seat(self, event_id: str) -> bool: ...

    async def insert_complimentary(
        self,
        *,
        event_id: str,
        user_id: str,
        holder_name: str,
        holder_email: str,
        holder_phone: str | None,
        issued_by: str,
    ) -> Ticket: ...

    async def correct_holder(self, ticket_id: str, changes: HolderChanges) -> Ticket: ...


@dataclass(frozen=True)
class TicketPage:
    tickets: Sequence[Ticket]
    has_more: bool
    counts: dict[str, int]


@dataclass(frozen=True)
class IssueComplimentary:
    event_id: str
    user_id: str
    holder_name: str
    holder_email: str
    holder_phone: str | None = None


async def _run_event(repo: HostToolsRepository, event_id: str, actor: Actor) -> EventSeats:
    seats = await repo.event_seats(event_id)
    if seats is None:
        raise EventNotFound("No ticketed event with this id.")
    if not actor.runs(seats.host_id):
        raise NotEventHost("Only the event's host or an admin may do this.")
    return seats


async def list_event_tickets(
    repo: HostToolsRepository,
    *,
    event_id: str,
    actor: Actor,
    status: TicketStatus | None = None,
    checked_in: bool | None = None,
    after: tuple[datetime, UUID] | None = None,
    limit: int = 20,
) -> TicketPage:
    """One page in purchase order (`after` = the last row's purchased_at and id)."""
    seats = await _run_event(repo, event_id, actor)
    found = await repo.event_tickets(
        event_id, status=status, checked_in=checked_in, after=after, limit=limit + 1
    )
    counts = {
        "capacity": seats.capacity,
        "sold": seats.sold,
        "held": seats.held,
        "checked_in": await repo.checked_in_count(event_id),
        "remaining": max(seats.capacity - seats.sold - seats.held, 0),
    }
    return TicketPage(found[:limit], len(found) > limit, counts)


async def issue_complimentary(
    repo: HostToolsRepository, command: IssueComplimentary, *, actor: Actor
) -> Ticket:
    """A free, active ticket from the host, counted against capacity like a sale."""
    async with repo.transaction():
        seats = await _run_event(repo, command.event_id, actor)
        if not await repo.take_sold_seat(command.event_id):
            raise SoldOut("This event is sold out.", details={"capacity": seats.capacity})
        ticket = await repo.insert_complimentary(
            event_id=command.event_id,
            user_id=command.user_id,
            holder_name=command.holder_name,
            holder_email=command.holder_email,
            holder_phone=command.holder_phone,
            issued_by=actor.user_id,
        )
        assert ticket.activated_at is not None
        await repo.events.activated(ticket, at=ticket.activated_at)
    return ticket


async def correct_holder(
    repo: HostToolsRepository, *, ticket_id: str, actor: Actor, changes: HolderChanges
) -> Ticket:
    async with repo.transaction():
        ticket = await repo.ticket(ticket_id, lock=True)
        if ticket is None or not actor.runs(ticket.host_id):
            raise TicketNotFound("No such ticket at your events.")
        return await repo.correct_holder(ticket_id, changes)
