"""PostgreSQL access for payments and their audit trail; SQL kept as SQL."""

from datetime import datetime
from typing import Any

import asyncpg
from servicekit.correlation import current_correlation_id

from payment_service.domain.gateway_calls import GatewayAnswer, IssuedToken
from payment_service.domain.model import PaymentState, PaymentStatus
from payment_service.domain.payment import PAYMENT_FIELDS, Payment


def _payment(row: asyncpg.Record) -> Payment:
    values = {name: row[name] for name in PAYMENT_FIELDS}
    values["status"] = PaymentStatus(row["status"])
    values["ticket_ids"] = tuple(row["ticket_ids"])
    return Payment(**values)


_COLUMNS = ", ".join(PAYMENT_FIELDS)


async def get(conn: asyncpg.Connection, order_id: str, *, lock: bool = False) -> Payment | None:
    sql = f"SELECT {_COLUMNS} FROM payments WHERE order_id = $1"  # noqa: S608 - fixed columns
    row = await conn.fetchrow(sql + (" FOR UPDATE" if lock else ""), order_id)
    return None if row is None else _payment(row)


async def insert_new(
    conn: asyncpg.Connection,
    *,
    order_id: str,
    amount: int,
    currency: str,
    user_id: str,
    ticket_id: str,
    event_id: str,
    customer: dict[str, Any],
    items: list[dict[str, Any]],
    metadata: dict[str, Any],
    expires_at: datetime,
    purchase_order_id: str | None,
    ticket_ids: tuple[str, ...],
) -> Payment | None:
    """The new payment, or None when the order exists. Inside the caller's transaction, the new
    row stays locked by its insert until the commit, as `get(..., lock=True)` would hold it."""
    row = await conn.fetchrow(
        f"""INSERT INTO payments (order_id, amount, currency, user_id, ticket_id, event_id,
                                  customer, items, metadata, expires_at, purchase_order_id,
                                  ticket_ids)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            ON CONFLICT (order_id) DO NOTHING RETURNING {_COLUMNS}""",  # noqa: S608 - fixed columns
        order_id,
        amount,
        currency,
        user_id,
        ticket_id,
        event_id,
        customer,
        items,
        metadata,
        expires_at,
        purchase_order_id,
        list(ticket_ids),
    )
    return None if row is None else _payment(row)


async def replace_unopened_request(
    conn: asyncpg.Connection,
    *,
    order_id: str,
    amount: int,
    customer: dict[str, Any],
    items: list[dict[str, Any]],
    metadata: dict[str, Any],
    expires_at: datetime,
    ticket_ids: tuple[str, ...],
) -> None:
    """A payment Midtrans never gave a token for may be asked for again with new details."""
    await conn.execute(
        """UPDATE payments SET amount = $2, customer = $3, items = $4, metadata = $5,
                  expires_at = $6, ticket_ids = $7, updated_at = now()
           WHERE order_id = $1 AND snap_token IS NULL""",
        order_id,
        amount,
        customer,
        items,
        metadata,
        expires_at,
        list(ticket_ids),
    )


async def record_issued_token(
    conn: asyncpg.Connection, order_id: str, issued: IssuedToken
) -> Payment:
    """Snap's answer, the token on the payment and its transition, as one statement.

    The caller holds the payment's row lock; the transition keeps the status it had."""
    row = await conn.fetchrow(
        f"""WITH called AS (
                INSERT INTO gateway_calls (order_id, operation, source, http_status, error,
                                           response, duration_ms)
                VALUES ($1, $5, 'api', $6, $7, $8, $9)),
            issued AS (
                UPDATE payments SET snap_token = $2, redirect_url = $3,
                       snap_token_expires_at = $4, updated_at = now()
                 WHERE order_id = $1
             RETURNING {_COLUMNS}),
            noted AS (
                INSERT INTO payment_transitions (order_id, from_status, to_status, source,
                                                 verdict, reason, gateway_body, correlation_id)
                SELECT $1, status, status, 'api', 'applied', $10, $8, $11 FROM issued)
            SELECT * FROM issued""",  # noqa: S608 - fixed columns
        order_id,
        issued.token,
        issued.redirect_url,
        issued.expires_at,
        issued.answer.operation,
        issued.answer.http_status,
        issued.answer.error,
        issued.answer.body,
        issued.answer.duration_ms,
        issued.reason,
        current_correlation_id(),
    )
    assert row is not None  # the caller holds the payment's row lock
    return _payment(row)


async def save_gateway_state(
    conn: asyncpg.Connection,
    order_id: str,
    *,
    status: PaymentStatus,
    refunded_amount: int,
    transaction_status: str | None,
    fraud_status: str | None,
    payment_type: str | None,
    transaction_id: str | None,
    settled: bool,
    events: int = 0,
) -> int:
    """The gateway's state, and `events` sequence numbers reserved (see advance_event_sequence)
    in the same statement: the last one."""
    value = await conn.fetchval(
        """UPDATE payments SET status = $2, refunded_amount = $3,
                  transaction_status = coalesce($4, transaction_status),
                  fraud_status = coalesce($5, fraud_status),
                  payment_type = coalesce($6, payment_type),
                  transaction_id = coalesce($7, transaction_id),
                  settled_at = CASE WHEN $8 AND settled_at IS NULL THEN now() ELSE settled_at END,
                  event_sequence = event_sequence + $9,
                  updated_at = now()
           WHERE order_id = $1
       RETURNING event_sequence""",
        order_id,
        str(status),
        refunded_amount,
        transaction_status,
        fraud_status,
        payment_type,
        transaction_id,
        settled,
        events,
    )
    return int(value)


async def advance_event_sequence(conn: asyncpg.Connection, order_id: str, count: int = 1) -> int:
    """Reserve `count` sequence numbers for the order's next events; returns the last one.

    Call it under the payment's row lock, in the transaction that writes the outbox rows, so
    the numbers are gap-free and strictly increasing in the order the events were decided.
    """
    value = await conn.fetchval(
        """UPDATE payments SET event_sequence = event_sequence + $2
           WHERE order_id = $1 RETURNING event_sequence""",
        order_id,
        count,
    )
    return int(value)


async def count_dropped_notification(conn: asyncpg.Connection, verdict: str) -> None:
    """An invalid body over the minute's budget: counted, not stored."""
    await conn.execute(
        """INSERT INTO notifications_dropped (minute, verdict, dropped)
           VALUES (date_trunc('minute', now()), $1, 1)
           ON CONFLICT (minute, verdict)
           DO UPDATE SET dropped = notifications_dropped.dropped + 1""",
        verdict,
    )


async def flag(conn: asyncpg.Connection, order_id: str, reason: str) -> None:
    await conn.execute(
        "UPDATE payments SET flagged_at = now(), flag_reason = $2 WHERE order_id = $1",
        order_id,
        reason[:500],
    )


async def add_transition(
    conn: asyncpg.Connection,
    *,
    order_id: str,
    from_status: str | None,
    to_status: str,
    source: str,
    verdict: str,
    reason: str | None = None,
    events: list[str] | None = None,
    gateway_body: dict[str, Any] | None = None,
    notification_id: int | None = None,
) -> None:
    await conn.execute(
        """INSERT INTO payment_transitions (order_id, from_status, to_status, source, verdict,
                  reason, events, gateway_body, notification_id, correlation_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
        order_id,
        from_status,
        to_status,
        source,
        verdict,
        reason,
        events or [],
        gateway_body,
        notification_id,
        current_correlation_id(),
    )


async def record_notification(
    conn: asyncpg.Connection,
    *,
    raw_body: bytes,
    verdict: str,
    detail: str | None = None,
    order_id: str | None = None,
    transaction_status: str | None = None,
    signature_valid: bool | None = None,
    remote_addr: str | None = None,
) -> int:
    value = await conn.fetchval(
        """INSERT INTO notifications (order_id, transaction_status, signature_valid, verdict,
                  detail, remote_addr, raw_body)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id""",
        order_id[:200] if order_id else None,
        transaction_status[:100] if transaction_status else None,
        signature_valid,
        verdict,
        detail,
        remote_addr,
        _audited(raw_body),
    )
    return int(value)


def _audited(raw_body: bytes) -> str:
    """A body as the audit log stores it: text, whatever bytes came (NUL is not storable)."""
    return raw_body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


async def record_agreement(
    conn: asyncpg.Connection,
    state: PaymentState,
    *,
    order_id: str,
    raw_body: bytes,
    detail: str,
    reason: str | None,
    transaction_status: str | None,
    remote_addr: str | None,
) -> int | None:
    """A signed notification claiming the state the payment holds: its audit row and its
    transition, as one statement, if the payment still holds `state`; the audit row's id, or None
    if the payment moved since it was read (nothing written).

    No transaction of its own, and a share lock where the other paths take the payment's row
    lock: duplicates do not queue behind each other. Every change holds the row lock, so a change
    in flight is waited for and then seen (the payment no longer matches: nothing is written),
    and the audit trail never shows a duplicate of a state the payment had already left."""
    value = await conn.fetchval(
        """WITH still AS (
               SELECT status FROM payments
                WHERE order_id = $1 AND status = $2 AND amount = $3 AND refunded_amount = $4
                  AND currency = $5
                  FOR SHARE),
           noted AS (
               INSERT INTO notifications (order_id, transaction_status, signature_valid, verdict,
                                          detail, remote_addr, raw_body)
               SELECT $1, $6, true, 'duplicate', $7, $8, $9 FROM still
               RETURNING id),
           moved AS (
               INSERT INTO payment_transitions (order_id, from_status, to_status, source,
                                                verdict, reason, notification_id, correlation_id)
               SELECT $1, still.status, still.status, 'notification', 'duplicate', $10,
                      noted.id, $11
                 FROM still, noted)
           SELECT id FROM noted""",
        order_id,
        str(state.status),
        state.amount,
        state.refunded_amount,
        state.currency,
        transaction_status[:100] if transaction_status else None,
        detail,
        remote_addr,
        _audited(raw_body),
        reason,
        current_correlation_id(),
    )
    return None if value is None else int(value)


async def record_gateway_call(
    conn: asyncpg.Connection, answer: GatewayAnswer, *, order_id: str | None, source: str
) -> None:
    await conn.execute(
        """INSERT INTO gateway_calls (order_id, operation, source, http_status, error, response,
                  duration_ms)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        order_id,
        answer.operation,
        source,
        answer.http_status,
        answer.error,
        answer.body,
        answer.duration_ms,
    )


# ----- background work: claimed so that several replicas never take the same row -----


async def claim_for_reconciliation(
    conn: asyncpg.Connection, *, older_than_seconds: float, limit: int
) -> list[str]:
    """Open payments untouched for a while, not checked recently; marks them checked."""
    rows = await conn.fetch(
        """UPDATE payments SET last_checked_at = now()
           WHERE order_id IN (
               SELECT order_id FROM payments
               WHERE status IN ('created', 'pending', 'challenge', 'denied', 'captured')
                 AND updated_at < now() - make_interval(secs => $1)
                 AND (last_checked_at IS NULL
                      OR last_checked_at < now() - make_interval(secs => $1))
               ORDER BY updated_at
               LIMIT $2
               FOR UPDATE SKIP LOCKED)
           RETURNING order_id""",
        older_than_seconds,
        limit,
    )
    return [r["order_id"] for r in rows]


async def request_close(conn: asyncpg.Connection, order_id: str) -> bool:
    """Mark an open payment to be expired at Midtrans; False if it is not open."""
    done = await conn.fetchval(
        """UPDATE payments SET close_requested_at = coalesce(close_requested_at, now())
           WHERE order_id = $1 AND status IN ('created', 'pending', 'challenge', 'denied')
           RETURNING true""",
        order_id,
    )
    return bool(done)


async def claim_closing(conn: asyncpg.Connection, *, limit: int, retry_seconds: float) -> list[str]:
    rows = await conn.fetch(
        """UPDATE payments SET close_attempted_at = now()
           WHERE order_id IN (
               SELECT order_id FROM payments
               WHERE close_requested_at IS NOT NULL
                 AND status IN ('created', 'pending', 'challenge', 'denied')
                 AND (close_attempted_at IS NULL
                      OR close_attempted_at < now() - make_interval(secs => $2))
               ORDER BY close_requested_at
               LIMIT $1
               FOR UPDATE SKIP LOCKED)
           RETURNING order_id""",
        limit,
        retry_seconds,
    )
    return [r["order_id"] for r in rows]


async def claim_paid_for_reconciliation(
    conn: asyncpg.Connection,
    *,
    every_seconds: float,
    refunds_every_seconds: float,
    limit: int,
) -> list[str]:
    """Paid payments to ask Midtrans about again (a reversal, chargeback or dashboard refund).

    Those of events still to come, each at most once per `every_seconds`; those with a refund
    waiting for Midtrans' confirmation once per `refunds_every_seconds`. Marks them checked;
    SKIP LOCKED keeps replicas off each other's rows.
    """
    rows = await conn.fetch(
        """UPDATE payments SET paid_checked_at = now()
           WHERE order_id IN (
               SELECT p.order_id FROM payments p
               WHERE p.status IN ('settled', 'partially_refunded', 'partially_charged_back')
                 AND ((EXISTS (SELECT 1 FROM refunds r
                               WHERE r.order_id = p.order_id AND r.status = 'pending')
                       AND coalesce(p.paid_checked_at, p.updated_at)
                           < now() - make_interval(secs => $2))
                      OR ((p.metadata->>'event_starts_at' IS NULL
                           OR (p.metadata->>'event_starts_at')::timestamptz > now())
                          AND coalesce(p.paid_checked_at, p.updated_at)
                              < now() - make_interval(secs => $1)))
               ORDER BY coalesce(p.paid_checked_at, p.updated_at)
               LIMIT $3
               FOR UPDATE SKIP LOCKED)
           RETURNING order_id""",
        every_seconds,
        refunds_every_seconds,
        limit,
    )
    return [r["order_id"] for r in rows]
