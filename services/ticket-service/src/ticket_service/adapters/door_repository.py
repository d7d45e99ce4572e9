"""SQL for the door and the host's tools: check-in, nonces, cancellation, comps, holder edits."""

from collections.abc import Mapping
from typing import Any
from uuid import UUID

import asyncpg
from servicekit.messaging import Outbox
from ticketing_contracts import (
    EventPayload,
    TicketActivated,
    TicketCancelled,
    TicketCheckedIn,
    TicketRefundRequested,
)

from ticket_service.domain.door import DoorTicket

TICKET_SELECT = """
    SELECT t.*, e.host_id, e.title AS event_title, e.venue AS event_venue,
           e.starts_at AS event_starts_at,
           (SELECT x.order_id FROM ticket_transactions x WHERE x.ticket_id = t.id
             ORDER BY x.created_at DESC LIMIT 1) AS order_id
      FROM tickets t JOIN ticketed_events e ON e.event_id = t.event_id
"""


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
        host_id=row["host_id"],
        status=row["status"],
        attendance_code=row["attendance_code"],
        is_checked_in=row["is_checked_in"],
        checked_in_at=row["checked_in_at"],
        price_paid=row["price_paid"],
        event_starts_at=row["event_starts_at"],
    )


def ticket_facts(row: Mapping[str, Any]) -> dict[str, Any]:
    """What every ticket event says about the ticket, its holder and its event."""
    return {
        "ticket_id": str(row["id"]),
        "event_id": row["event_id"],
        "user_id": row["user_id"],
        "order_id": row["order_id"],
        "attendance_code": row["attendance_code"],
        "holder_name": row["holder_name"],
        "holder_email": row["holder_email"],
        "event_title": row["event_title"],
        "event_starts_at": row["event_starts_at"],
        "event_venue": row["event_venue"],
        "host_id": row["host_id"],
    }


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
        return await self.conn.fetchrow(TICKET_SELECT + suffix, uid)

    async def ticket(self, ticket_id: str, *, lock: bool = False) -> DoorTicket | None:
        row = await self.row(ticket_id, lock=lock)
        return door_ticket(row) if row else None

    async def tickets_by_code(
        self, code: str, *, host_id: str | None = None, event_id: str | None = None
    ) -> list[DoorTicket]:
        rows = await self.conn.fetch(
            TICKET_SELECT
            + """ WHERE t.attendance_code = $1
                    AND ($2::text IS NULL OR e.host_id = $2)
                    AND ($3::text IS NULL OR t.event_id = $3)
                  ORDER BY t.event_id LIMIT 50""",
            code,
            host_id,
            event_id,
        )
        return [door_ticket(r) for r in rows]

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
        await self._emit(
            TicketCheckedIn(
                **ticket_facts(row),
                checked_in_at=row["checked_in_at"],
                checked_in_by=row["checked_in_by"],
            )
        )

    async def cancel(self, ticket: DoorTicket, *, by: str, reason: str) -> DoorTicket:
        row = await self.conn.fetchrow(
            """UPDATE tickets
                  SET status = 'cancelled', cancelled_at = now(), cancelled_by = $2,
                      cancel_reason = $3, updated_at = now()
                WHERE id = $1 AND status IN ('pending', 'active') AND NOT is_checked_in
            RETURNING id""",
            UUID(ticket.id),
            by,
            reason,
        )
        if row is None:  # the caller holds the row lock; this would be a bug
            raise RuntimeError(f"ticket {ticket.id} changed under its lock")
        await self.free_seat(ticket.event_id, was=ticket.status)
        await self.conn.execute(
            """UPDATE ticket_transactions SET status = 'cancelled', updated_at = now()
                WHERE ticket_id = $1 AND status = 'pending'""",
            UUID(ticket.id),
        )
        facts = await self._facts_row(ticket.id)
        await self._emit(
            TicketCancelled(
                **ticket_facts(facts),
                cancelled_at=facts["cancelled_at"],
                cancelled_by=by,
                reason=reason,
            )
        )
        return door_ticket(facts)

    async def free_seat(self, event_id: str, *, was: str) -> None:
        """The same counters the purchase takes: a hold gives back `held`, a sale `sold`."""
        column = "held" if was == "pending" else "sold"
        await self.conn.execute(
            f"UPDATE ticketed_events SET {column} = {column} - 1, updated_at = now() "  # noqa: S608 - column is one of two literals
            "WHERE event_id = $1",
            event_id,
        )

    async def request_refund(self, ticket: DoorTicket, *, amount: int, reason: str) -> None:
        row = await self._facts_row(ticket.id)
        await self._emit(TicketRefundRequested(**ticket_facts(row), amount=amount, reason=reason))

    async def record_activated(self, ticket_id: str, *, qr_payload: str) -> None:
        row = await self._facts_row(ticket_id)
        await self._emit(
            TicketActivated(
                **ticket_facts(row),
                price_paid=row["price_paid"],
                activated_at=row["activated_at"],
                qr_payload=qr_payload,
            )
        )

    async def _facts_row(self, ticket_id: str) -> asyncpg.Record:
        row = await self.row(ticket_id)
        if row is None:
            raise RuntimeError(f"ticket {ticket_id} vanished inside its transaction")
        return row

    async def _emit(self, payload: EventPayload) -> None:
        await self.outbox.add(self.conn, payload)
