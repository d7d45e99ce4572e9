"""SQL for the door and the host's tools: check-in, nonces, cancellation, comps, holder edits."""

from datetime import timedelta
from typing import Any
from uuid import UUID

import asyncpg

from ticket_service.adapters import repository, rows
from ticket_service.adapters.repository import TICKET_VIEW
from ticket_service.adapters.ticket_events import OutboxTicketEvents
from ticket_service.domain.door import DoorTicket
from ticket_service.domain.entities import Ticket
from ticket_service.domain.tickets import TicketStatus


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


class SqlDoorRepository:
    """One request's connection; the service layer opens the transaction."""

    def __init__(self, conn: asyncpg.Connection, events: OutboxTicketEvents) -> None:
        self.conn = conn
        self.events = events

    def transaction(self) -> Any:
        return self.conn.transaction()

    async def view(self, ticket_id: str, *, lock: bool = False) -> Ticket | None:
        uid = _uuid(ticket_id)
        if uid is None:
            return None
        suffix = " WHERE t.id = $1" + (" FOR UPDATE OF t" if lock else "")
        row = await self.conn.fetchrow(TICKET_VIEW + suffix, uid)
        return rows.ticket(row) if row else None

    async def ticket(self, ticket_id: str, *, lock: bool = False) -> DoorTicket | None:
        ticket = await self.view(ticket_id, lock=lock)
        return DoorTicket.of(ticket) if ticket else None

    async def tickets_by_code(
        self, code: str, *, host_id: str | None = None, event_id: str | None = None
    ) -> list[DoorTicket]:
        found = await self.conn.fetch(
            TICKET_VIEW
            + """ WHERE t.attendance_code = $1
                    AND ($2::text IS NULL OR e.host_id = $2)
                    AND ($3::text IS NULL OR t.event_id = $3)
                  ORDER BY t.event_id LIMIT 50""",
            code,
            host_id,
            event_id,
        )
        return [DoorTicket.of(ticket) for ticket in rows.tickets(found)]

    async def admit(self, ticket_id: str, *, by: str) -> DoorTicket | None:
        # One conditional statement: of any number of racing scanners exactly one matches.
        admitted = await self.conn.fetchval(
            """UPDATE tickets
                  SET is_checked_in = true, checked_in_at = now(), checked_in_by = $2,
                      updated_at = now()
                WHERE id = $1 AND status = 'active' AND NOT is_checked_in
            RETURNING id""",
            UUID(ticket_id),
            by,
        )
        return await self.ticket(ticket_id) if admitted else None

    async def claim_nonce(self, nonce: str, scanner_id: str, ticket_id: str) -> str | None:
        inserted = await self.conn.fetchval(
            """INSERT INTO check_in_nonces (scanner_id, nonce, ticket_id) VALUES ($1, $2, $3)
               ON CONFLICT (scanner_id, nonce) DO NOTHING RETURNING ticket_id""",
            scanner_id,
            nonce,
            UUID(ticket_id),
        )
        if inserted is not None:
            return None
        owner = await self.conn.fetchval(
            "SELECT ticket_id FROM check_in_nonces WHERE scanner_id = $1 AND nonce = $2",
            scanner_id,
            nonce,
        )
        return str(owner)

    async def record_checked_in(self, ticket: DoorTicket) -> None:
        await self.events.checked_in(await self._existing(ticket.id))

    async def cancel(self, ticket: DoorTicket, *, by: str, reason: str) -> DoorTicket:
        """Cancel under the caller's row lock, giving back the seat or hold it took."""
        ticket_id = UUID(ticket.id)
        now = await self.conn.fetchval("SELECT now()")
        await repository.set_ticket_status(
            self.conn,
            ticket_id,
            TicketStatus.CANCELLED,
            now=now,
            cancelled_by=by,
            cancel_reason=reason,
        )
        if ticket.status == TicketStatus.PENDING:
            await repository.move_seats(self.conn, ticket.event_id, held=-1)
            await repository.cancel_transactions_of(self.conn, [ticket_id], now)
        else:
            await repository.move_seats(self.conn, ticket.event_id, sold=-1)
        cancelled = await self._existing(ticket.id)
        await self.events.cancelled(cancelled, at=now, by=by, reason=reason)
        return DoorTicket.of(cancelled)

    async def request_refund(self, ticket: DoorTicket, *, amount: int, reason: str) -> None:
        await self.conn.execute(
            """UPDATE ticket_transactions SET refund_requested_at = now(), updated_at = now()
                WHERE ticket_id = $1 AND refund_requested_at IS NULL""",
            UUID(ticket.id),
        )
        await self.events.refund_requested(
            await self._existing(ticket.id), amount=amount, reason=reason
        )

    async def _existing(self, ticket_id: str) -> Ticket:
        ticket = await self.view(ticket_id)
        if ticket is None:
            raise RuntimeError(f"ticket {ticket_id} vanished inside its transaction")
        return ticket


async def forget_check_in_nonces(pool: asyncpg.Pool, *, older_than: timedelta, limit: int) -> int:
    """Delete up to `limit` nonces older than `older_than`; returns how many went.

    Plain deletes in batches: replicas running it at once only share the work.
    """
    status: str = await pool.execute(
        """DELETE FROM check_in_nonces WHERE ctid IN (
               SELECT ctid FROM check_in_nonces WHERE created_at < now() - $1::interval
                LIMIT $2)""",
        older_than,
        limit,
    )
    return int(status.split()[-1])
