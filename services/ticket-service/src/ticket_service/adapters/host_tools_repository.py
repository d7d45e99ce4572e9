"""SQL for the host's tools: an event's ticket list and counts, comps, holder corrections."""

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from ticket_service.adapters import repository, rows
from ticket_service.adapters.door_repository import SqlDoorRepository
from ticket_service.adapters.repository import TICKET_VIEW
from ticket_service.domain.entities import Ticket
from ticket_service.domain.tickets import TicketStatus
from ticket_service.service_layer.host_tools import EventSeats, HolderChanges


class SqlHostToolsRepository(SqlDoorRepository):
    async def event_seats(self, event_id: str) -> EventSeats | None:
        row = await self.conn.fetchrow(
            "SELECT event_id, host_id, capacity, sold, held FROM ticketed_events"
            " WHERE event_id = $1",
            event_id,
        )
        return EventSeats(**dict(row)) if row else None

    async def checked_in_count(self, event_id: str) -> int:
        count = await self.conn.fetchval(
            "SELECT count(*) FROM tickets WHERE event_id = $1 AND is_checked_in", event_id
        )
        return int(count)

    async def event_tickets(
        self,
        event_id: str,
        *,
        status: TicketStatus | None,
        checked_in: bool | None,
        after: tuple[datetime, UUID] | None,
        limit: int,
    ) -> Sequence[Ticket]:
        after_time, after_id = after or (None, None)
        found = await self.conn.fetch(
            TICKET_VIEW
            + """ WHERE t.event_id = $1
                        AND ($2::text IS NULL OR t.status = $2)
                        AND ($3::boolean IS NULL OR t.is_checked_in = $3)
                        AND ($4::timestamptz IS NULL OR (t.purchased_at, t.id) > ($4, $5::uuid))
                      ORDER BY t.purchased_at, t.id
                      LIMIT $6""",
            event_id,
            status,
            checked_in,
            after_time,
            after_id,
            limit,
        )
        return [rows.ticket(row) for row in found]

    async def take_sold_seat(self, event_id: str) -> bool:
        """The purchase path's counter: one more seat sold, only while one is free."""
        return await repository.take_free_seat(self.conn, event_id)

    async def insert_complimentary(
        self,
        *,
        event_id: str,
        user_id: str,
        holder_name: str,
        holder_email: str,
        holder_phone: str | None,
        issued_by: str,
    ) -> Ticket:
        """An active ticket at no charge, with a fresh attendance code like any purchase."""
        now = await self.conn.fetchval("SELECT now()")
        ticket_id = await repository.insert_ticket(
            self.conn,
            event_id=event_id,
            user_id=user_id,
            price=0,
            currency="IDR",
            status=TicketStatus.ACTIVE,
            holder_name=holder_name,
            holder_email=holder_email,
            holder_phone=holder_phone,
            hold_expires_at=None,
            now=now,
        )
        await self.conn.execute(
            "UPDATE tickets SET issued_by = $2 WHERE id = $1", ticket_id, issued_by
        )
        return await self._existing(str(ticket_id))

    async def correct_holder(self, ticket_id: str, changes: HolderChanges) -> Ticket:
        columns = [c for c in ("holder_name", "holder_email", "holder_phone") if c in changes]
        if not columns:
            return await self._existing(ticket_id)
        assignments = ", ".join(f"{c} = ${i}" for i, c in enumerate(columns, start=2))
        await self.conn.execute(
            f"UPDATE tickets SET {assignments}, updated_at = now() WHERE id = $1",  # noqa: S608 - columns come from the fixed list above
            UUID(ticket_id),
            *(changes[c] for c in columns),
        )
        return await self._existing(ticket_id)
