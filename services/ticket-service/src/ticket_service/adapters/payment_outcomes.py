"""SQL for applying payment events: the locked order, its progress, attempt, refund and moves."""

import dataclasses
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import asyncpg
from servicekit.messaging import Outbox

from ticket_service.adapters import repository
from ticket_service.adapters.ticket_events import OutboxTicketEvents
from ticket_service.domain.entities import Ticket
from ticket_service.domain.payments import (
    Order,
    OrderedTicket,
    PaymentAttempt,
    Progress,
    Refund,
)
from ticket_service.domain.tickets import TicketStatus, TransactionStatus


def order_entity(row: Mapping[str, Any]) -> Order:
    return Order(
        order_id=row["order_id"],
        ticket_id=str(row["ticket_id"]),
        transaction_id=str(row["transaction_id"]),
        event_id=row["event_id"],
        ticket_status=TicketStatus(row["ticket_status"]),
        transaction_status=TransactionStatus(row["transaction_status"]),
        amount=row["amount"],
        refund_requested=row["refund_requested_at"] is not None,
        cancel_reason=row["cancel_reason"],
        payment_sequence=row["payment_sequence"],
        refund_sequence=row["refund_sequence"],
    )


class SqlPaymentOutcomes:
    """One consumer transaction's connection (servicekit's inbox opens the transaction)."""

    def __init__(self, conn: asyncpg.Connection, outbox: Outbox) -> None:
        self.conn = conn
        self.events = OutboxTicketEvents(conn, outbox)

    async def lock_order(self, order_id: str) -> Order | None:
        # Ticket and transaction both locked: payment events of one order apply one at a time.
        row = await self.conn.fetchrow(
            """SELECT x.order_id, t.id AS ticket_id, t.status AS ticket_status, t.event_id,
                      t.cancel_reason, x.id AS transaction_id, x.status AS transaction_status,
                      x.amount, x.refund_requested_at, x.payment_sequence, x.refund_sequence,
                      x.purchase_order_id
                 FROM ticket_transactions x JOIN tickets t ON t.id = x.ticket_id
                WHERE x.order_id = $1
                FOR UPDATE OF t, x""",
            order_id,
        )
        if row is None:
            return None
        order = order_entity(row)
        # Every ticket the payment pays for, locked in id order like every other ticket path.
        tickets = await self.conn.fetch(
            """SELECT id, status, cancel_reason, refund_requested_at, price_paid, ticket_type_id
                 FROM tickets
                WHERE CASE WHEN $2::uuid IS NULL THEN id = $1 ELSE purchase_order_id = $2 END
                ORDER BY id <> $1, id
                FOR UPDATE""",
            row["ticket_id"],
            row["purchase_order_id"],
        )
        first_refund = row["refund_requested_at"] is not None
        return dataclasses.replace(
            order,
            tickets=tuple(
                OrderedTicket(
                    ticket_id=str(t["id"]),
                    status=TicketStatus(t["status"]),
                    cancel_reason=t["cancel_reason"],
                    refund_requested=t["refund_requested_at"] is not None
                    or (t["id"] == row["ticket_id"] and first_refund),
                    share=t["price_paid"],
                    ticket_type_id=t["ticket_type_id"],
                )
                for t in tickets
            ),
        )

    async def move_seats(self, event_id: str, *, sold: int = 0, held: int = 0) -> None:
        """The event's counters; the type's and quotas' follow the ticket's move (0013)."""
        await repository.move_seats(self.conn, event_id, sold=sold, held=held)

    async def take_free_seat(self, event_id: str, *, ticket_type_id: str | None = None) -> bool:
        """A seat of the event and, for a typed ticket, of its type and every quota of it."""
        if ticket_type_id is None:
            return await repository.take_free_seat(self.conn, event_id)
        return await repository.take_free_typed_seat(self.conn, event_id, ticket_type_id)

    async def move_ticket(
        self,
        order: Order,
        target: TicketStatus,
        *,
        now: datetime,
        cancelled_by: str | None = None,
        cancel_reason: str | None = None,
    ) -> None:
        await repository.set_ticket_status(
            self.conn,
            uuid.UUID(order.ticket_id),
            target,
            now=now,
            cancelled_by=cancelled_by,
            cancel_reason=cancel_reason,
        )

    async def update_transaction(
        self,
        order: Order,
        status: TransactionStatus,
        *,
        now: datetime,
        completed_at: datetime | None = None,
        payment_method: str | None = None,
        payment_gateway_id: str | None = None,
        gateway_report: dict[str, Any] | None = None,
        refund_requested: bool = False,
    ) -> None:
        await repository.set_transaction_status(
            self.conn,
            uuid.UUID(order.transaction_id),
            status,
            now=now,
            completed_at=completed_at,
            payment_method=payment_method,
            payment_gateway_id=payment_gateway_id,
            gateway_report=gateway_report,
            refund_requested=refund_requested,
        )
        if refund_requested:
            await self.conn.execute(
                """UPDATE tickets SET refund_requested_at = coalesce(refund_requested_at, now())
                    WHERE id = $1""",
                uuid.UUID(order.ticket_id),
            )

    async def record_progress(self, order: Order, progress: Progress) -> None:
        await self.conn.execute(
            """UPDATE ticket_transactions
                  SET payment_sequence = $2, payment_status = $3, updated_at = now()
                WHERE id = $1""",
            uuid.UUID(order.transaction_id),
            progress.sequence,
            progress.payment_status,
        )

    async def record_attempt(self, order: Order, attempt: PaymentAttempt) -> None:
        await self.conn.execute(
            """UPDATE ticket_transactions
                  SET last_attempt_result = $2, last_attempt_reason = $3, last_attempt_at = $4,
                      updated_at = now()
                WHERE id = $1""",
            uuid.UUID(order.transaction_id),
            attempt.result,
            attempt.reason,
            attempt.at,
        )

    async def record_refund(self, order: Order, refund: Refund) -> None:
        await self.conn.execute(
            """UPDATE ticket_transactions
                  SET refund_id = $2, refund_amount = $3, refund_method = $4, refund_status = $5,
                      refund_reason = $6, refund_reference = $7, refund_updated_at = $8,
                      refund_sequence = $9, updated_at = now()
                WHERE id = $1""",
            uuid.UUID(order.transaction_id),
            refund.id,
            refund.amount,
            refund.method,
            refund.status,
            refund.reason,
            refund.reference,
            refund.updated_at,
            refund.sequence,
        )
        # The ticket shows its refund: the ticket changed too.
        await self.conn.execute(
            "UPDATE tickets SET updated_at = now() WHERE id = $1", uuid.UUID(order.ticket_id)
        )

    async def announce_activated(self, order: Order, *, at: datetime) -> None:
        await self.events.activated(await self._view(order), at=at)

    async def announce_cancelled(self, order: Order, *, at: datetime, by: str, reason: str) -> None:
        await self.events.cancelled(await self._view(order), at=at, by=by, reason=reason)

    async def announce_refund_requested(self, order: Order, *, amount: int, reason: str) -> None:
        await self.events.refund_requested(await self._view(order), amount=amount, reason=reason)

    async def _view(self, order: Order) -> Ticket:
        view = await repository.ticket_view(self.conn, uuid.UUID(order.ticket_id))
        if view is None:
            raise RuntimeError(f"ticket {order.ticket_id} vanished inside its transaction")
        return view
