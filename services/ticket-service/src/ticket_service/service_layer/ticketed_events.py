"""A host puts their event on sale, or changes it; an admin may change any event."""

from dataclasses import asdict, dataclass
from datetime import datetime

import asyncpg

from ticket_service.adapters import repository as repo
from ticket_service.domain.errors import InvalidEvent, NotEventHost
from ticket_service.domain.ticketed_events import Seats


@dataclass(frozen=True)
class PutTicketedEvent:
    event_id: str
    caller_id: str
    caller_is_admin: bool
    title: str
    venue: str
    starts_at: datetime
    price: int
    currency: str
    capacity: int
    sales_start: datetime | None
    sales_end: datetime | None
    max_per_user: int | None
    host_id: str | None = None  # admins may put an event on behalf of a host


async def put_ticketed_event(
    conn: asyncpg.Connection, cmd: PutTicketedEvent
) -> tuple[bool, repo.Row]:
    """Create or update; returns (created, row). Capacity never drops below sold + held."""
    if cmd.sales_start and cmd.sales_end and cmd.sales_start >= cmd.sales_end:
        raise InvalidEvent("sales_start must be before sales_end.")
    if cmd.host_id is not None and not cmd.caller_is_admin:
        raise NotEventHost("Only an admin can put an event on behalf of another host.")
    fields = asdict(cmd)
    async with conn.transaction():
        existing = await repo.lock_event(conn, cmd.event_id)
        if existing is None:
            created = await repo.insert_event(
                conn, cmd.event_id, cmd.host_id or cmd.caller_id, fields
            )
            if created is not None:
                return True, created
            existing = await repo.lock_event(conn, cmd.event_id)  # a concurrent create won
            assert existing is not None
        if existing["host_id"] != cmd.caller_id and not cmd.caller_is_admin:
            raise NotEventHost("Only the event's host or an admin can change it.")
        Seats(existing["capacity"], existing["sold"], existing["held"]).check_new_capacity(
            cmd.capacity
        )
        host_id = cmd.host_id or existing["host_id"]
        return False, await repo.update_event(conn, cmd.event_id, host_id, fields)
