"""The host's tools: the event's ticket list with counts, lookup by code, comps, holder fixes."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from ticket_service.adapters.host_tools_repository import (
    EventSeats,
    SqlHostToolsRepository,
    decode_cursor,
    encode_cursor,
)
from ticket_service.domain.door import Actor
from ticket_service.domain.errors import EventNotFound, NotEventHost, SoldOut, TicketNotFound
from ticket_service.domain.qr_codes import SigningKeys


@dataclass(frozen=True)
class TicketPage:
    rows: Sequence[asyncpg.Record]
    next_cursor: str | None
    counts: dict[str, int]


@dataclass(frozen=True)
class IssueComplimentary:
    event_id: str
    user_id: str
    holder_name: str
    holder_email: str
    holder_phone: str | None = None


async def _run_event(repo: SqlHostToolsRepository, event_id: str, actor: Actor) -> EventSeats:
    seats = await repo.event_seats(event_id)
    if seats is None:
        raise EventNotFound("No ticketed event with this id.")
    if not actor.runs(seats.host_id):
        raise NotEventHost("Only the event's host or an admin may do this.")
    return seats


async def list_event_tickets(
    repo: SqlHostToolsRepository,
    *,
    event_id: str,
    actor: Actor,
    status: str | None = None,
    checked_in: bool | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> TicketPage:
    seats = await _run_event(repo, event_id, actor)
    after = decode_cursor(cursor) if cursor else None
    rows = await repo.event_tickets(
        event_id, status=status, checked_in=checked_in, after=after, limit=limit + 1
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1]["purchased_at"], rows[-1]["id"])
    counts = {
        "capacity": seats.capacity,
        "sold": seats.sold,
        "held": seats.held,
        "checked_in": await repo.checked_in_count(event_id),
        "remaining": max(seats.capacity - seats.sold - seats.held, 0),
    }
    return TicketPage(rows, next_cursor, counts)


async def issue_complimentary(
    repo: SqlHostToolsRepository, command: IssueComplimentary, *, actor: Actor, keys: SigningKeys
) -> asyncpg.Record:
    """A free, active ticket from the host, counted against capacity like a sale."""
    async with repo.transaction():
        seats = await _run_event(repo, command.event_id, actor)
        if not await repo.take_sold_seat(command.event_id):
            raise SoldOut("This event is sold out.", details={"capacity": seats.capacity})
        ticket_id = await repo.insert_complimentary(
            event_id=command.event_id,
            user_id=command.user_id,
            holder_name=command.holder_name,
            holder_email=command.holder_email,
            holder_phone=command.holder_phone,
            issued_by=actor.user_id,
        )
        await repo.record_activated(ticket_id, keys=keys)
        row = await repo.row(ticket_id)
    assert row is not None
    return row


async def correct_holder(
    repo: SqlHostToolsRepository, *, ticket_id: str, actor: Actor, changes: dict[str, Any]
) -> asyncpg.Record:
    async with repo.transaction():
        ticket = await repo.ticket(ticket_id, lock=True)
        if ticket is None or not actor.runs(ticket.host_id):
            raise TicketNotFound("No such ticket at your events.")
        await repo.correct_holder(ticket_id, changes)
        row = await repo.row(ticket_id)
    assert row is not None
    return row
