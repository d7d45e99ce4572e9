"""SQL for the door and the host's tools: check-in, nonces, cancellation, comps, holder edits."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from servicekit.correlation import current_correlation_id

from ticket_service.adapters import gate_rows, online_scan, repository, rows
from ticket_service.adapters.repository import TICKET_VIEW
from ticket_service.adapters.ticket_events import OutboxTicketEvents
from ticket_service.domain.door import DoorTicket
from ticket_service.domain.entities import Ticket
from ticket_service.domain.gates import GateTicket
from ticket_service.domain.tickets import TicketStatus
from ticket_service.service_layer.check_in import GateScan, GateScanOutcome


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

    async def scan_online(self, scan: GateScan) -> GateScanOutcome:
        actor = scan.actor
        if scan.ticket_id is not None and _uuid(scan.ticket_id) is None:
            return GateScanOutcome(0, [], None, None, None, None, datetime.now(UTC))
        args = online_scan.online_scan_args(
            ticket_id=scan.ticket_id,
            attendance_code=scan.attendance_code,
            event_id=scan.event_id,
            host_id=None if actor.scanner_of else actor.user_id,
            is_admin=actor.is_admin and actor.scanner_of is None,
            scanner_event_id=actor.scanner_of,
            list_id=scan.list_id,
            direction=scan.direction,
            scanned_by=actor.user_id,
            nonce=scan.nonce,
            outbox_event_id=uuid4(),
            producer=self.events.outbox.producer,
            correlation_id=current_correlation_id(),
        )
        return await online_scan.scan_online(self.conn, args)

    async def nonce_owner(self, nonce: str, scanner_id: str) -> str | None:
        owner = await self.conn.fetchval(
            "SELECT ticket_id FROM check_in_nonces WHERE scanner_id = $1 AND nonce = $2",
            scanner_id,
            nonce,
        )
        return str(owner) if owner is not None else None

    async def gate_ticket(self, ticket_id: str) -> GateTicket | None:
        row = await self.conn.fetchrow(
            """SELECT id, status, ticket_type_id, is_checked_in, is_inside, checked_in_at
                 FROM tickets WHERE id = $1""",
            UUID(ticket_id),
        )
        return gate_rows.gate_ticket(row) if row else None

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
