"""A host puts their event on sale, or changes it; an admin may change any event."""

from dataclasses import dataclass
from typing import Protocol

from ticket_service.domain.entities import EventTerms, TicketedEvent
from ticket_service.domain.errors import InvalidEvent, NotEventHost
from ticket_service.service_layer.ports import Transactional


class TicketedEventRepository(Transactional, Protocol):
    async def lock_event(self, event_id: str) -> TicketedEvent | None: ...

    async def insert_event(
        self, event_id: str, host_id: str, terms: EventTerms
    ) -> TicketedEvent | None:
        """Create the event; None when it already exists (a concurrent create won)."""

    async def update_event(
        self, event_id: str, host_id: str, terms: EventTerms
    ) -> TicketedEvent: ...


@dataclass(frozen=True)
class PutTicketedEvent:
    event_id: str
    caller_id: str
    caller_is_admin: bool
    terms: EventTerms
    host_id: str | None = None  # admins may put an event on behalf of a host


@dataclass(frozen=True)
class PutResult:
    event: TicketedEvent
    created: bool


async def put_ticketed_event(repo: TicketedEventRepository, cmd: PutTicketedEvent) -> PutResult:
    """Create or update. Capacity never drops below sold + held."""
    terms = cmd.terms
    if terms.sales_start and terms.sales_end and terms.sales_start >= terms.sales_end:
        raise InvalidEvent("sales_start must be before sales_end.")
    if cmd.host_id is not None and not cmd.caller_is_admin:
        raise NotEventHost("Only an admin can put an event on behalf of another host.")
    async with repo.transaction():
        existing = await repo.lock_event(cmd.event_id)
        if existing is None:
            created = await repo.insert_event(cmd.event_id, cmd.host_id or cmd.caller_id, terms)
            if created is not None:
                return PutResult(created, created=True)
            existing = await repo.lock_event(cmd.event_id)  # a concurrent create won
            assert existing is not None
        if existing.host_id != cmd.caller_id and not cmd.caller_is_admin:
            raise NotEventHost("Only the event's host or an admin can change it.")
        existing.seats.check_new_capacity(terms.capacity)
        host_id = cmd.host_id or existing.host_id
        return PutResult(await repo.update_event(cmd.event_id, host_id, terms), created=False)
