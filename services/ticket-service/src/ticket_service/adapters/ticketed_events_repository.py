"""SQL for the host's event writes: create or update a ticketed event under its row lock."""

from typing import Any

import asyncpg

from ticket_service.adapters import check_in_keys, repository
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
        created = await repository.insert_event(self.conn, event_id, host_id, terms)
        if created is not None:
            # Its QR signing key with it: the first activation then finds the key, and a
            # payment's transaction takes no key lock (first use made it under an advisory
            # lock, which two payments of one host could take in opposite orders).
            await check_in_keys.first_key(self.conn, event_id)
        return created

    async def update_event(self, event_id: str, host_id: str, terms: EventTerms) -> TicketedEvent:
        return await repository.update_event(self.conn, event_id, host_id, terms)
