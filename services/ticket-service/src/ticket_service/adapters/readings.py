"""SQL for reading tickets, transactions and events (one request's connection)."""

from uuid import UUID

import asyncpg

from ticket_service.adapters import repository
from ticket_service.domain.entities import Ticket, TicketedEvent, TicketTransaction
from ticket_service.domain.tickets import TicketStatus
from ticket_service.service_layer.views import PagePosition


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


class SqlTicketReader:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def ticket(self, ticket_id: str) -> Ticket | None:
        uid = _uuid(ticket_id)
        return await repository.ticket_view(self.conn, uid) if uid else None

    async def tickets_of_user(
        self, user_id: str, *, after: PagePosition | None, limit: int, status: TicketStatus | None
    ) -> list[Ticket]:
        return await repository.tickets_of_user(
            self.conn, user_id, after=after, limit=limit, status=status
        )

    async def transaction(self, transaction_id: str) -> TicketTransaction | None:
        uid = _uuid(transaction_id)
        return await repository.transaction_of(self.conn, uid) if uid else None

    async def transactions_of_user(
        self, user_id: str, *, after: PagePosition | None, limit: int
    ) -> list[TicketTransaction]:
        return await repository.transactions_of_user(self.conn, user_id, after=after, limit=limit)

    async def event(self, event_id: str) -> TicketedEvent | None:
        return await repository.get_event(self.conn, event_id)
