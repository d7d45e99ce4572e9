"""SQL for the door and the host's tools: check-in, nonces, cancellation, comps, holder edits."""

from collections.abc import Mapping
from typing import Any
from uuid import UUID

import asyncpg
from servicekit.messaging import Outbox

from ticket_service.adapters import repository
from ticket_service.adapters.repository import TICKET_VIEW
from ticket_service.domain.door import DoorTicket
from ticket_service.domain.qr_codes import SigningKeys
from ticket_service.service_layer import ticket_events


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


def door_ticket(row: Mapping[str, Any]) -> DoorTicket:
    return DoorTicket(
        id=str(row["id"]),
        event_id=row["event_id"],
        user_id=row["user_id"],
        host_id=row["event_host_id"],
        status=row["status"],
        attendance_code=row["attendance_code"],
        is_checked_in=row["is_checked_in"],
        checked_in_at=row["checked_in_at"],
        price_paid=row["price_paid"],
        event_starts_at=row["event_starts_at"],
    )


class SqlDoorRepository:
    """One request's connection; the service layer opens the transaction."""

    def __init__(self, conn: asyncpg.Connection, outbox: Outbox) -> None:
        self.conn = conn
        self.outbox = outbox

    def transaction(self) -> Any:
        return self.conn.transaction()

    async def row(self, ticket_id: str, *, lock: bool = False) -> asyncpg.Record | None:
        uid = _uuid(ticket_id)
        if uid is None:
            return None
        suffix = " WHERE t.id = $1" + (" FOR UPDATE OF t" if lock else "")
        return await self.conn.fetchrow(TICKET_VIEW + suffix, uid)

    async def ticket(self, ticket_id: str, *, lock: bool = False) -> DoorTicket | None:
        row = await self.row(ticket_id, lock=lock)
        return door_ticket(row) if row else None

    async def tickets_by_code(
        self, code: str, *, host_id: str | None = None, event_id: str | None = None
    ) -> list[DoorTicket]:
        rows = await self.conn.fetch(
            TICKET_VIEW
            + """ WHERE t.attendance_code = $1
                    AND ($2::text IS NULL OR e.host_id = $2)
                    AND ($3::text IS NULL OR t.event_id = $3)
                  ORDER BY t.event_id LIMIT 50""",
            code,
            host_id,
            event_id,
        )
        # One row per ticket even if a ticket ever carries several transactions.
        return list({str(r["id"]): door_ticket(r) for r in rows}.values())

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
        row = await self._facts_row(ticket.id)
        await ticket_events.ticket_checked_in(self.conn, self.outbox, row)

    async def cancel(self, ticket: DoorTicket, *, by: str, reason: str) -> DoorTicket:
        """Cancel under the caller's row lock, giving back the seat or hold it took."""
        ticket_id = UUID(ticket.id)
        now = await self.conn.fetchval("SELECT now()")
        await repository.set_ticket_status(
            self.conn, ticket_id, "cancelled", now=now, cancelled_by=by, cancel_reason=reason
        )
        if ticket.status == "pending":
            await repository.move_seats(self.conn, ticket.event_id, held=-1)
            await repository.cancel_transactions_of(self.conn, [ticket_id], now)
        else:
            await repository.move_seats(self.conn, ticket.event_id, sold=-1)
        row = await self._facts_row(ticket.id)
        await ticket_events.ticket_cancelled(
            self.conn, self.outbox, row, at=now, by=by, reason=reason
        )
        return door_ticket(row)

    async def request_refund(self, ticket: DoorTicket, *, amount: int, reason: str) -> None:
        await self.conn.execute(
            """UPDATE ticket_transactions SET refund_requested_at = now(), updated_at = now()
                WHERE ticket_id = $1 AND refund_requested_at IS NULL""",
            UUID(ticket.id),
        )
        row = await self._facts_row(ticket.id)
        await ticket_events.ticket_refund_requested(
            self.conn, self.outbox, row, amount=amount, reason=reason
        )

    async def record_activated(self, ticket_id: str, *, keys: SigningKeys) -> None:
        row = await self._facts_row(ticket_id)
        await ticket_events.ticket_activated(self.conn, self.outbox, row, keys, row["activated_at"])

    async def _facts_row(self, ticket_id: str) -> asyncpg.Record:
        row = await self.row(ticket_id)
        if row is None:
            raise RuntimeError(f"ticket {ticket_id} vanished inside its transaction")
        return row
