# ruff: noqa: S608 - queries interpolate only the constant column list below, never input
"""SQL for ticket transfers: the event's rules, offers, the hand-over and the ticket's trail."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from ticket_service.adapters import rows
from ticket_service.adapters.repository import MAX_CODE_DRAWS, TICKET_VIEW
from ticket_service.adapters.ticket_events import OutboxTicketEvents
from ticket_service.domain.attendance_codes import new_attendance_code
from ticket_service.domain.door import DoorTicket
from ticket_service.domain.entities import Ticket
from ticket_service.domain.errors import AttendanceCodesExhausted
from ticket_service.domain.transfers import (
    Transfer,
    TransferableTicket,
    TransferPolicy,
    TransferStatus,
)
from ticket_service.service_layer.transfers import EventTransferRules

TRANSFER_COLUMNS = """id, ticket_id, event_id, from_user_id, from_name, from_email, to_name,
    to_email, to_user_id, status, expires_at, created_at, accepted_at, withdrawn_at"""


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _transfer(row: rows.Record) -> Transfer:
    return Transfer(
        id=str(row["id"]),
        ticket_id=str(row["ticket_id"]),
        event_id=row["event_id"],
        from_user_id=row["from_user_id"],
        from_name=row["from_name"],
        from_email=row["from_email"],
        to_name=row["to_name"],
        to_email=row["to_email"],
        to_user_id=row["to_user_id"],
        status=TransferStatus(row["status"]),
        expires_at=row["expires_at"],
        created_at=row["created_at"],
        accepted_at=row["accepted_at"],
        withdrawn_at=row["withdrawn_at"],
    )


def _policy(row: rows.Record) -> TransferPolicy:
    return TransferPolicy(
        allowed=row["transfers_allowed"],
        deadline=row["transfer_deadline"],
        max_transfers_per_ticket=row["max_transfers_per_ticket"],
    )


class SqlTransferRepository:
    """One request's connection; the service layer opens the transaction."""

    def __init__(self, conn: asyncpg.Connection, events: OutboxTicketEvents) -> None:
        self.conn = conn
        self.events = events

    def transaction(self) -> Any:
        return self.conn.transaction()

    async def _view(self, ticket_id: uuid.UUID, *, lock: bool = False) -> Ticket | None:
        suffix = " WHERE t.id = $1" + (" FOR UPDATE OF t" if lock else "")
        row = await self.conn.fetchrow(TICKET_VIEW + suffix, ticket_id)
        return rows.ticket(row) if row else None

    async def transferable(
        self, ticket_id: str, *, lock: bool = False
    ) -> TransferableTicket | None:
        uid = _uuid(ticket_id)
        if uid is None:
            return None
        ticket = await self._view(uid, lock=lock)
        if ticket is None:
            return None
        row = await self.conn.fetchrow(
            """SELECT t.transfer_count, e.transfers_allowed, e.transfer_deadline,
                      e.max_transfers_per_ticket
                 FROM tickets t JOIN ticketed_events e ON e.event_id = t.event_id
                WHERE t.id = $1""",
            uid,
        )
        assert row is not None
        return TransferableTicket(
            ticket=DoorTicket.of(ticket),
            holder_name=ticket.holder_name,
            holder_email=ticket.holder_email,
            policy=_policy(row),
            transfer_count=row["transfer_count"],
        )

    async def open_offer(self, ticket_id: str) -> Transfer | None:
        row = await self.conn.fetchrow(
            f"""SELECT {TRANSFER_COLUMNS} FROM ticket_transfers
                 WHERE ticket_id = $1 AND status = 'offered'""",
            uuid.UUID(ticket_id),
        )
        return _transfer(row) if row else None

    async def offer_by_token(self, token_hash: str) -> Transfer | None:
        row = await self.conn.fetchrow(
            f"SELECT {TRANSFER_COLUMNS} FROM ticket_transfers WHERE accept_token_hash = $1",
            token_hash,
        )
        return _transfer(row) if row else None

    async def insert_offer(
        self,
        ticket: TransferableTicket,
        *,
        to_name: str,
        to_email: str,
        token_hash: str,
        expires_at: datetime,
    ) -> Transfer:
        row = await self.conn.fetchrow(
            f"""INSERT INTO ticket_transfers (id, ticket_id, event_id, from_user_id, from_name,
                    from_email, to_name, to_email, accept_token_hash, expires_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                RETURNING {TRANSFER_COLUMNS}""",
            uuid.uuid4(),
            uuid.UUID(ticket.ticket.id),
            ticket.ticket.event_id,
            ticket.ticket.user_id,
            ticket.holder_name,
            ticket.holder_email,
            to_name,
            to_email,
            token_hash,
            expires_at,
        )
        assert row is not None
        return _transfer(row)

    async def close_offer(self, transfer_id: str, status: TransferStatus) -> Transfer:
        row = await self.conn.fetchrow(
            f"""UPDATE ticket_transfers
                   SET status = $2,
                       withdrawn_at = CASE WHEN $2 = 'withdrawn' THEN now() END
                 WHERE id = $1 AND status = 'offered'
             RETURNING {TRANSFER_COLUMNS}""",
            uuid.UUID(transfer_id),
            str(status),
        )
        assert row is not None, "the offer was closed under the ticket's lock"
        return _transfer(row)

    async def hand_over(self, transfer: Transfer, *, to_user_id: str) -> Ticket:
        ticket_id = uuid.UUID(transfer.ticket_id)
        await self._give_new_code(ticket_id, transfer, to_user_id)
        await self.conn.execute(
            """UPDATE ticket_transfers SET status = 'accepted', to_user_id = $2,
                      accepted_at = now()
                WHERE id = $1""",
            uuid.UUID(transfer.id),
            to_user_id,
        )
        moved = await self._view(ticket_id)
        assert moved is not None
        return moved

    async def _give_new_code(
        self, ticket_id: uuid.UUID, transfer: Transfer, to_user_id: str
    ) -> None:
        """A new code unique in the event and unlike the old one (codes are drawn at random)."""
        for _ in range(MAX_CODE_DRAWS):
            try:
                async with self.conn.transaction():  # a savepoint: a clash retries, not aborts
                    moved = await self.conn.fetchval(
                        """UPDATE tickets
                              SET user_id = $2, holder_name = $3, holder_email = $4,
                                  holder_phone = NULL, attendance_code = $5,
                                  qr_version = qr_version + 1,
                                  transfer_count = transfer_count + 1,
                                  transferred_at = now(), updated_at = now()
                            WHERE id = $1 AND attendance_code <> $5
                        RETURNING id""",
                        ticket_id,
                        to_user_id,
                        transfer.to_name,
                        transfer.to_email,
                        new_attendance_code(),
                    )
                if moved is not None:
                    return
            except asyncpg.UniqueViolationError:
                continue
        raise AttendanceCodesExhausted("Could not draw a free attendance code; try again.")

    async def trail(self, ticket_id: str) -> Sequence[Transfer]:
        found = await self.conn.fetch(
            f"""SELECT {TRANSFER_COLUMNS} FROM ticket_transfers WHERE ticket_id = $1
                 ORDER BY created_at, id LIMIT 100""",
            uuid.UUID(ticket_id),
        )
        return [_transfer(row) for row in found]

    async def rules(self, event_id: str) -> EventTransferRules | None:
        row = await self.conn.fetchrow(
            """SELECT event_id, host_id, transfers_allowed, transfer_deadline,
                      max_transfers_per_ticket
                 FROM ticketed_events WHERE event_id = $1""",
            event_id,
        )
        if row is None:
            return None
        return EventTransferRules(row["event_id"], row["host_id"], _policy(row))

    async def set_policy(self, event_id: str, policy: TransferPolicy) -> None:
        await self.conn.execute(
            """UPDATE ticketed_events
                  SET transfers_allowed = $2, transfer_deadline = $3,
                      max_transfers_per_ticket = $4, updated_at = now()
                WHERE event_id = $1""",
            event_id,
            policy.allowed,
            policy.deadline,
            policy.max_transfers_per_ticket,
        )
