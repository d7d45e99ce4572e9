# ruff: noqa: S608 - queries interpolate only the constant column lists below, never input
"""SQL for ticketed events, tickets and their transactions; every function takes the connection.

Seat counting lives here: `ticketed_events.sold/held` change only in the statements below, each
under the event row's lock (SELECT ... FOR UPDATE or a conditional UPDATE), so concurrent buyers
queue on the row and the last seat is taken once.
"""

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from ticket_service.adapters import rows
from ticket_service.domain.attendance_codes import new_attendance_code
from ticket_service.domain.entities import (
    EventTerms,
    PaymentLink,
    Ticket,
    TicketedEvent,
    TicketTransaction,
)
from ticket_service.domain.errors import AttendanceCodesExhausted

MAX_CODE_DRAWS = 25

EVENT_COLUMNS = """event_id, host_id, title, venue, starts_at, price, currency, capacity, sold,
    held, sales_start, sales_end, max_per_user, max_per_order, created_at, updated_at"""

TICKET_VIEW = """
SELECT t.id, t.user_id, t.event_id, t.attendance_code, t.price_paid, t.currency, t.status,
       t.holder_name, t.holder_email, t.holder_phone, t.purchased_at, t.hold_expires_at,
       t.activated_at, t.expired_at, t.refunded_at, t.is_checked_in, t.checked_in_at,
       t.checked_in_by, t.cancelled_at, t.cancelled_by, t.cancel_reason, t.created_at,
       t.updated_at,
       e.title AS event_title, e.starts_at AS event_starts_at, e.venue AS event_venue,
       e.host_id AS event_host_id,
       x.id AS transaction_id, x.order_id, x.status AS transaction_status, x.amount,
       x.snap_token, x.redirect_url, x.payment_expires_at,
       x.last_attempt_result, x.last_attempt_reason, x.last_attempt_at,
       x.refund_id, x.refund_amount, x.refund_method, x.refund_status, x.refund_reason,
       x.refund_reference, x.refund_updated_at,
       t.ticket_type_id, ty.name AS ticket_type_name, t.purchase_order_id,
       CASE WHEN t.purchase_order_id IS NULL THEN 1 ELSE
            (SELECT count(*) FROM tickets o WHERE o.purchase_order_id = t.purchase_order_id)
       END AS order_size
  FROM tickets t
  JOIN ticketed_events e ON e.event_id = t.event_id
  LEFT JOIN ticket_types ty ON ty.event_id = t.event_id AND ty.id = t.ticket_type_id
  LEFT JOIN LATERAL (
       -- An order's one transaction (keyed by its first ticket) is every ticket's of the order.
       SELECT * FROM ticket_transactions x0 WHERE x0.purchase_order_id = t.purchase_order_id
       UNION ALL
       SELECT * FROM ticket_transactions x1
        WHERE t.purchase_order_id IS NULL AND x1.ticket_id = t.id
       LIMIT 1) x ON true
"""

TRANSACTION_COLUMNS = """id, ticket_id, user_id, event_id, order_id, amount, currency, status,
    payment_method, payment_gateway_id, payment_gateway_response, created_at, updated_at,
    completed_at, payment_status, last_attempt_result, last_attempt_reason, last_attempt_at,
    refund_id, refund_amount, refund_method, refund_status, refund_reason, refund_reference,
    refund_updated_at"""


# --- ticketed events -------------------------------------------------------------------------


async def lock_event(conn: asyncpg.Connection, event_id: str) -> TicketedEvent | None:
    """The event, locked until the transaction ends: purchases of one event queue here."""
    row = await conn.fetchrow(
        f"SELECT {EVENT_COLUMNS} FROM ticketed_events WHERE event_id = $1 FOR UPDATE",
        event_id,
    )
    return rows.ticketed_event(row) if row else None


async def event_host(conn: asyncpg.Connection, event_id: str) -> str | None:
    """The host of the event, or None when there is no such event."""
    host_id: str | None = await conn.fetchval(
        "SELECT host_id FROM ticketed_events WHERE event_id = $1", event_id
    )
    return host_id


async def get_event(conn: asyncpg.Connection, event_id: str) -> TicketedEvent | None:
    row = await conn.fetchrow(
        f"SELECT {EVENT_COLUMNS} FROM ticketed_events WHERE event_id = $1",
        event_id,
    )
    return rows.ticketed_event(row) if row else None


def _terms(terms: EventTerms) -> tuple[Any, ...]:
    """$3..$12 of the event statements below."""
    return (
        terms.title,
        terms.venue,
        terms.starts_at,
        terms.price,
        terms.currency,
        terms.capacity,
        terms.sales_start,
        terms.sales_end,
        terms.max_per_user,
        terms.max_per_order,
    )


async def insert_event(
    conn: asyncpg.Connection, event_id: str, host_id: str, terms: EventTerms
) -> TicketedEvent | None:
    """Create the event; None when it already exists (a concurrent create won)."""
    row = await conn.fetchrow(
        f"""INSERT INTO ticketed_events (event_id, host_id, title, venue, starts_at, price,
                currency, capacity, sales_start, sales_end, max_per_user, max_per_order)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            ON CONFLICT (event_id) DO NOTHING
            RETURNING {EVENT_COLUMNS}""",
        event_id,
        host_id,
        *_terms(terms),
    )
    return rows.ticketed_event(row) if row else None


async def update_event(
    conn: asyncpg.Connection, event_id: str, host_id: str, terms: EventTerms
) -> TicketedEvent:
    row = await conn.fetchrow(
        f"""UPDATE ticketed_events
               SET host_id = $2, title = $3, venue = $4, starts_at = $5, price = $6,
                   currency = $7, capacity = $8, sales_start = $9, sales_end = $10,
                   max_per_user = $11, max_per_order = $12, updated_at = now()
             WHERE event_id = $1
         RETURNING {EVENT_COLUMNS}""",
        event_id,
        host_id,
        *_terms(terms),
    )
    assert row is not None
    return rows.ticketed_event(row)


async def move_seats(
    conn: asyncpg.Connection, event_id: str, *, sold: int = 0, held: int = 0
) -> None:
    """Shift the counters (the caller holds the ticket rows that justify it)."""
    await conn.execute(
        """UPDATE ticketed_events SET sold = sold + $2, held = held + $3, updated_at = now()
            WHERE event_id = $1""",
        event_id,
        sold,
        held,
    )


async def take_free_seat(conn: asyncpg.Connection, event_id: str) -> bool:
    """Sell one seat only if one is free (after its hold ended); one statement, no race."""
    taken = await conn.fetchval(
        """UPDATE ticketed_events SET sold = sold + 1, updated_at = now()
            WHERE event_id = $1 AND sold + held < capacity
        RETURNING true""",
        event_id,
    )
    return bool(taken)


async def take_free_typed_seat(conn: asyncpg.Connection, event_id: str, type_id: str) -> bool:
    """One more seat of the event only if the event, the type and each of its quotas have room.

    The event row is taken first (its lock). The type's and quotas' counters follow ticket moves
    only at commit (migration 0013), so their room is counted from the tickets themselves, which
    include this transaction's earlier moves (several tickets of one late payment), and from the
    open waiting-list offers' seats (issue 16). While anyone waits for the type its free seats
    are theirs: a late payment is refunded.
    """
    taken = await conn.fetchval(
        """UPDATE ticketed_events e SET sold = sold + 1, updated_at = now()
            WHERE e.event_id = $1 AND e.sold + e.held < e.capacity
              AND NOT EXISTS (SELECT 1 FROM waitlist_entries w
                               WHERE w.event_id = $1 AND w.ticket_type_id = $2
                                 AND w.status = 'waiting')
              AND EXISTS (
                  SELECT 1 FROM ticket_types ty
                   WHERE ty.event_id = $1 AND ty.id = $2
                     AND (ty.capacity IS NULL OR ty.capacity > (
                          SELECT count(*) FROM tickets t
                           WHERE t.event_id = $1 AND t.ticket_type_id = $2
                             AND t.status IN ('pending', 'active')) + (
                          SELECT COALESCE(sum(o.seats), 0) FROM waitlist_offers o
                           WHERE o.event_id = $1 AND o.ticket_type_id = $2
                             AND o.status = 'open')))
              AND NOT EXISTS (
                  SELECT 1 FROM quotas q
                    JOIN quota_ticket_types qt ON qt.event_id = q.event_id AND qt.quota_id = q.id
                   WHERE qt.event_id = $1 AND qt.ticket_type_id = $2
                     AND q.size <= (
                          SELECT count(*) FROM tickets t
                            JOIN quota_ticket_types mine
                              ON mine.event_id = t.event_id
                             AND mine.ticket_type_id = t.ticket_type_id
                           WHERE mine.event_id = $1 AND mine.quota_id = q.id
                             AND t.status IN ('pending', 'active')) + (
                          SELECT COALESCE(sum(o.seats), 0) FROM waitlist_offers o
                            JOIN quota_ticket_types mine
                              ON mine.event_id = o.event_id
                             AND mine.ticket_type_id = o.ticket_type_id
                           WHERE mine.event_id = $1 AND mine.quota_id = q.id
                             AND o.status = 'open'))
        RETURNING true""",
        event_id,
        type_id,
    )
    return bool(taken)


async def count_user_seats(conn: asyncpg.Connection, event_id: str, user_id: str) -> int:
    value = await conn.fetchval(
        """SELECT count(*) FROM tickets
            WHERE event_id = $1 AND user_id = $2 AND status IN ('pending', 'active')""",
        event_id,
        user_id,
    )
    return int(value or 0)


# --- tickets -----------------------------------------------------------------------------------


async def insert_ticket(
    conn: asyncpg.Connection,
    *,
    event_id: str,
    user_id: str,
    price: int,
    currency: str,
    status: str,
    holder_name: str,
    holder_email: str,
    holder_phone: str | None,
    hold_expires_at: datetime | None,
    now: datetime,
) -> uuid.UUID:
    """Insert with a fresh attendance code; a code taken meanwhile is redrawn in a savepoint."""
    ticket_id = uuid.uuid4()
    for _ in range(MAX_CODE_DRAWS):
        try:
            async with conn.transaction():
                await conn.execute(
                    """INSERT INTO tickets (id, user_id, event_id, attendance_code, price_paid,
                           currency, status, holder_name, holder_email, holder_phone,
                           purchased_at, hold_expires_at, activated_at, created_at, updated_at)
                       VALUES ($1, $2, $3, $4, $5, $6, $7::text, $8, $9, $10,
                               $11::timestamptz, $12,
                               CASE WHEN $7::text = 'active' THEN $11::timestamptz END,
                               $11::timestamptz, $11::timestamptz)""",
                    ticket_id,
                    user_id,
                    event_id,
                    new_attendance_code(),
                    price,
                    currency,
                    status,
                    holder_name,
                    holder_email,
                    holder_phone,
                    now,
                    hold_expires_at,
                )
            return ticket_id
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name != "attendance_code_unique_per_event":
                raise
    raise AttendanceCodesExhausted("Could not draw a free attendance code; please retry.")


async def insert_transaction(
    conn: asyncpg.Connection,
    *,
    ticket_id: uuid.UUID,
    user_id: str,
    event_id: str,
    order_id: str,
    amount: int,
    currency: str,
    status: str,
    payment_method: str | None,
    now: datetime,
) -> uuid.UUID:
    transaction_id = uuid.uuid4()
    await conn.execute(
        """INSERT INTO ticket_transactions (id, ticket_id, user_id, event_id, order_id, amount,
               currency, status, payment_method, created_at, updated_at, completed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text, $9, $10::timestamptz,
                   $10::timestamptz, CASE WHEN $8::text = 'completed' THEN $10::timestamptz END)""",
        transaction_id,
        ticket_id,
        user_id,
        event_id,
        order_id,
        amount,
        currency,
        status,
        payment_method,
        now,
    )
    return transaction_id


async def ticket_view(conn: asyncpg.Connection, ticket_id: uuid.UUID) -> Ticket | None:
    row = await conn.fetchrow(TICKET_VIEW + " WHERE t.id = $1", ticket_id)
    return rows.ticket(row) if row else None


async def lock_pending_ticket(conn: asyncpg.Connection, ticket_id: uuid.UUID) -> str | None:
    """Lock a pending ticket; its event's id, or None when it is not pending (any more)."""
    event_id: str | None = await conn.fetchval(
        "SELECT event_id FROM tickets WHERE id = $1 AND status = 'pending' FOR UPDATE",
        ticket_id,
    )
    return event_id


async def set_ticket_status(
    conn: asyncpg.Connection,
    ticket_id: uuid.UUID,
    status: str,
    *,
    now: datetime,
    cancelled_by: str | None = None,
    cancel_reason: str | None = None,
) -> None:
    """Move the ticket and stamp the time of the move (activated/expired/cancelled/refunded)."""
    await conn.execute(
        """UPDATE tickets
              SET status = $2::text, updated_at = $3::timestamptz,
                  hold_expires_at = CASE WHEN $2 = 'pending' THEN hold_expires_at END,
                  activated_at = CASE WHEN $2 = 'active' THEN $3 ELSE activated_at END,
                  expired_at = CASE WHEN $2 = 'expired' THEN $3 ELSE expired_at END,
                  refunded_at = CASE WHEN $2 = 'refunded' THEN $3 ELSE refunded_at END,
                  cancelled_at = CASE WHEN $2 = 'cancelled' THEN $3 ELSE cancelled_at END,
                  cancelled_by = CASE WHEN $2 = 'cancelled' THEN $4::text ELSE cancelled_by END,
                  cancel_reason = CASE WHEN $2 = 'cancelled' THEN $5::text ELSE cancel_reason END
            WHERE id = $1""",
        ticket_id,
        status,
        now,
        cancelled_by,
        cancel_reason,
    )


async def set_transaction_status(
    conn: asyncpg.Connection,
    transaction_id: uuid.UUID,
    status: str,
    *,
    now: datetime,
    completed_at: datetime | None = None,
    payment_method: str | None = None,
    payment_gateway_id: str | None = None,
    gateway_report: dict[str, Any] | None = None,
    refund_requested: bool = False,
) -> None:
    await conn.execute(
        """UPDATE ticket_transactions
              SET status = $2::text, updated_at = $3::timestamptz,
                  completed_at = COALESCE($4::timestamptz, completed_at),
                  payment_method = COALESCE($5::text, payment_method),
                  payment_gateway_id = COALESCE($6::text, payment_gateway_id),
                  payment_gateway_response = CASE WHEN $7::jsonb IS NULL
                      THEN payment_gateway_response
                      ELSE COALESCE(payment_gateway_response, '{}'::jsonb) || $7::jsonb END,
                  refund_requested_at = CASE WHEN $8::boolean THEN $3 ELSE refund_requested_at END
            WHERE id = $1""",
        transaction_id,
        status,
        now,
        completed_at,
        payment_method,
        payment_gateway_id,
        gateway_report,
        refund_requested,
    )


async def record_opened_payment(
    conn: asyncpg.Connection,
    ticket_id: uuid.UUID,
    *,
    snap_token: str,
    redirect_url: str,
    expires_at: datetime,
    raw: dict[str, Any],
) -> PaymentLink | None:
    """The ticket's transaction gets the payment just opened; its link as stored (None: no
    transaction)."""
    row = await conn.fetchrow(
        """UPDATE ticket_transactions
              SET snap_token = $2, redirect_url = $3, payment_expires_at = $4,
                  payment_gateway_response = COALESCE(payment_gateway_response, '{}'::jsonb)
                      || jsonb_build_object('opened', $5::jsonb),
                  updated_at = now()
            WHERE ticket_id = $1
        RETURNING order_id, snap_token, redirect_url, payment_expires_at""",
        ticket_id,
        snap_token,
        redirect_url,
        expires_at,
        raw,
    )
    return None if row is None else rows.payment_link(row)


async def claim_expired_holds(
    conn: asyncpg.Connection, now: datetime, limit: int
) -> list[tuple[uuid.UUID, str]]:
    """Expire up to `limit` pending tickets whose hold ended; skips rows another replica holds.

    Returns (ticket id, event id) of each.
    """
    claimed = await conn.fetch(
        """WITH due AS (
               SELECT id FROM tickets
                WHERE status = 'pending' AND hold_expires_at <= $1
                ORDER BY hold_expires_at
                LIMIT $2
                FOR UPDATE SKIP LOCKED)
           UPDATE tickets t
              SET status = 'expired', expired_at = $1, updated_at = $1, hold_expires_at = NULL
             FROM due WHERE t.id = due.id
         RETURNING t.id, t.event_id""",
        now,
        limit,
    )
    return [(r["id"], r["event_id"]) for r in claimed]


async def cancel_transactions_of(
    conn: asyncpg.Connection, ticket_ids: list[uuid.UUID], now: datetime
) -> None:
    await conn.execute(
        """UPDATE ticket_transactions SET status = 'cancelled', updated_at = $2
            WHERE ticket_id = ANY($1::uuid[]) AND status = 'pending'""",
        ticket_ids,
        now,
    )


async def tickets_of_user(
    conn: asyncpg.Connection,
    user_id: str,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
    status: str | None,
) -> list[Ticket]:
    found = await conn.fetch(
        TICKET_VIEW
        + """ WHERE t.user_id = $1
                AND ($2::text IS NULL OR t.status = $2)
                AND ($3::timestamptz IS NULL OR (t.created_at, t.id) < ($3, $4::uuid))
              ORDER BY t.created_at DESC, t.id DESC
              LIMIT $5""",
        user_id,
        status,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [rows.ticket(r) for r in found]


async def transaction_of(
    conn: asyncpg.Connection, transaction_id: uuid.UUID
) -> TicketTransaction | None:
    row = await conn.fetchrow(
        f"SELECT {TRANSACTION_COLUMNS} FROM ticket_transactions WHERE id = $1",
        transaction_id,
    )
    return rows.transaction(row) if row else None


async def transactions_of_user(
    conn: asyncpg.Connection,
    user_id: str,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[TicketTransaction]:
    found = await conn.fetch(
        f"""SELECT {TRANSACTION_COLUMNS} FROM ticket_transactions
             WHERE user_id = $1
               AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3::uuid))
             ORDER BY created_at DESC, id DESC
             LIMIT $4""",
        user_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [rows.transaction(r) for r in found]
