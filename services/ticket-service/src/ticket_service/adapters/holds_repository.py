"""SQL for the hold sweeper: claim due holds, give their seats back, in one transaction."""

from collections import Counter
from datetime import datetime
from typing import Any

import asyncpg

from ticket_service.adapters import repository
from ticket_service.adapters.ticket_events import OutboxTicketEvents
from ticket_service.domain.entities import Ticket


class SqlHoldsRepository:
    def __init__(self, conn: asyncpg.Connection, events: OutboxTicketEvents) -> None:
        self.conn = conn
        self.events = events

    def transaction(self) -> Any:
        return self.conn.transaction()

    async def expire_due_holds(self, *, now: datetime, limit: int) -> list[Ticket]:
        claimed = await repository.claim_expired_holds(self.conn, now, limit)
        if not claimed:
            return []
        per_event = Counter(event_id for _, event_id in claimed)
        # In a fixed order, so two sweepers never wait on each other's event rows in a cycle.
        for event_id in sorted(per_event):
            await repository.move_seats(self.conn, event_id, held=-per_event[event_id])
        ticket_ids = [ticket_id for ticket_id, _ in claimed]
        await repository.cancel_transactions_of(self.conn, ticket_ids, now)
        expired = [await repository.ticket_view(self.conn, ticket_id) for ticket_id in ticket_ids]
        return [ticket for ticket in expired if ticket is not None]
