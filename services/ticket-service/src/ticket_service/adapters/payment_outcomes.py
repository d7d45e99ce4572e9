"""SQL for applying payment events: the locked order, its progress, attempt, refund and moves."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg
from servicekit.messaging import Outbox

from ticket_service.adapters import check_in_keys, repository, rows
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

# The payment's transaction and every ticket it pays for, locked: the order's first ticket (the
# one the transaction is keyed by) first, then the others in id order, like every other ticket
# path; payment events of one order apply one at a time.
_LOCK_ORDER = """
SELECT x.order_id, x.id AS transaction_id, x.status AS transaction_status, x.amount,
       x.refund_requested_at AS order_refund_requested_at, x.payment_sequence,
       x.refund_sequence, x.purchase_order_id, x.ticket_id AS first_ticket_id,
       t.id, t.status, t.event_id, t.cancel_reason, t.refund_requested_at, t.price_paid,
       t.ticket_type_id
  FROM ticket_transactions x
  JOIN tickets t ON t.id = x.ticket_id OR t.purchase_order_id = x.purchase_order_id
 WHERE x.order_id = $1
 ORDER BY t.id <> x.ticket_id, t.id
   FOR UPDATE OF t, x
"""


_VIEW_AND_KEY = f"""
SELECT v.*, k.key_id, k.private_key
  FROM ({repository.TICKET_VIEW} WHERE t.id = $1) v
  LEFT JOIN LATERAL ({check_in_keys.signing_key_of("v.event_id")}) k ON true
"""  # noqa: S608 - constant fragments only


def order_entity(found: Sequence[Mapping[str, Any]]) -> Order:
    """The order from its locked rows: the first ticket's row first."""
    first = found[0]
    first_refund = first["order_refund_requested_at"] is not None
    return Order(
        order_id=first["order_id"],
        ticket_id=str(first["id"]),
        transaction_id=str(first["transaction_id"]),
        event_id=first["event_id"],
        ticket_status=TicketStatus(first["status"]),
        transaction_status=TransactionStatus(first["transaction_status"]),
        amount=first["amount"],
        refund_requested=first_refund,
        cancel_reason=first["cancel_reason"],
        payment_sequence=first["payment_sequence"],
        refund_sequence=first["refund_sequence"],
        purchase_order_id=rows.str_or_none(first["purchase_order_id"]),
        tickets=tuple(
            OrderedTicket(
                ticket_id=str(t["id"]),
                status=TicketStatus(t["status"]),
                cancel_reason=t["cancel_reason"],
                refund_requested=t["refund_requested_at"] is not None
                or (t["id"] == first["first_ticket_id"] and first_refund),
                share=t["price_paid"],
                ticket_type_id=t["ticket_type_id"],
            )
            for t in found
        ),
    )


class SqlPaymentOutcomes:
    """One consumer transaction's connection (servicekit's inbox opens the transaction)."""

    def __init__(self, conn: asyncpg.Connection, outbox: Outbox) -> None:
        self.conn = conn
        self.events = OutboxTicketEvents(conn, outbox)

    async def lock_order(self, order_id: str) -> Order | None:
        found = await self.conn.fetch(_LOCK_ORDER, order_id)
        return order_entity(found) if found else None

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

    async def activate(
        self,
        order: Order,
        *,
        now: datetime,
        completed_at: datetime,
        payment_method: str | None,
        payment_gateway_id: str | None,
        gateway_report: dict[str, Any],
    ) -> None:
        # One statement: the ticket's move (as set_ticket_status makes it) and its transaction's.
        await self.conn.execute(
            """WITH ticket AS (
                   UPDATE tickets
                      SET status = 'active', updated_at = $3, activated_at = $3,
                          hold_expires_at = NULL
                    WHERE id = $1)
               UPDATE ticket_transactions
                  SET status = 'completed', updated_at = $3, completed_at = $4,
                      payment_method = COALESCE($5::text, payment_method),
                      payment_gateway_id = COALESCE($6::text, payment_gateway_id),
                      payment_gateway_response =
                          COALESCE(payment_gateway_response, '{}'::jsonb) || $7::jsonb,
                      last_attempt_result = 'paid', last_attempt_reason = NULL,
                      last_attempt_at = $4
                WHERE id = $2""",
            uuid.UUID(order.ticket_id),
            uuid.UUID(order.transaction_id),
            now,
            completed_at,
            payment_method,
            payment_gateway_id,
            gateway_report,
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
        # The ticket and its event's signing key in one read (an event older than keys made
        # with their event gets its key on first use).
        row = await self.conn.fetchrow(_VIEW_AND_KEY, uuid.UUID(order.ticket_id))
        if row is None:
            raise RuntimeError(f"ticket {order.ticket_id} vanished inside its transaction")
        key = (row["key_id"], bytes(row["private_key"])) if row["key_id"] else None
        await self.events.activated(rows.ticket(row), at=at, key=key)

    async def announce_cancelled(self, order: Order, *, at: datetime, by: str, reason: str) -> None:
        await self.events.cancelled(await self._view(order), at=at, by=by, reason=reason)

    async def announce_refund_requested(self, order: Order, *, amount: int, reason: str) -> None:
        await self.events.refund_requested(await self._view(order), amount=amount, reason=reason)

    async def _view(self, order: Order) -> Ticket:
        view = await repository.ticket_view(self.conn, uuid.UUID(order.ticket_id))
        if view is None:
            raise RuntimeError(f"ticket {order.ticket_id} vanished inside its transaction")
        return view
