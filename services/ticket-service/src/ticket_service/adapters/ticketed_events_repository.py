"""SQL for the host's event writes: create or update a ticketed event under its row lock."""

from typing import Any

import asyncpg

from ticket_service.adapters import repository
from ticket_service.domain.entities import EventTerms, TicketedEvent


class SqlTicketedEvents:
    """The host's event writes (one request's connection)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    def transaction(self) -> Any:
        return self.conn.transaction()

    async def lock_event(self, event_id: str) -> TicketedEvent | None:
        return await repository.lock_event(self.conn, event_id)

    async def insert_event(
        self, event_id: str, host_id: str, terms: EventTerms
    ) -> TicketedEvent | None:
        return await repository.insert_event(self.conn, event_id, host_id, terms)

    async def update_event(self, event_id: str, host_id: str, terms: EventTerms) -> TicketedEvent:
        return await repository.update_event(self.conn, event_id, host_id, terms)
