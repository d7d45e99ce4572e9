"""PostgreSQL access for refunds: the intent rows, their claims by the refund job, and payouts."""

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from payment_service.domain.refunds import BankAccount, Refund, RefundMethod, RefundStatus


def _refund(row: asyncpg.Record) -> Refund:
    account = None
    if row["bank_code"] is not None:
        account = BankAccount(row["bank_code"], row["account_number"], row["account_holder"])
    return Refund(
        refund_id=row["refund_id"],
        refund_key=row["refund_key"],
        order_id=row["order_id"],
        user_id=row["user_id"],
        amount=row["amount"],
        reason=row["reason"],
        source=row["source"],
        requested_by=row["requested_by"],
        method=RefundMethod(row["method"]),
        status=RefundStatus(row["status"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
        bank_account=account,
        payout_reference=row["payout_reference"],
        paid_out_by=row["paid_out_by"],
        paid_out_at=row["paid_out_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        finished_at=row["finished_at"],
        ticket_ids=tuple(row["ticket_ids"]),
    )


_SELECT = """SELECT r.refund_id, r.refund_key, r.order_id, p.user_id, r.amount, r.reason,
                    r.source, r.requested_by, r.method, r.status, r.attempts, r.last_error,
                    r.bank_code, r.account_number, r.account_holder, r.payout_reference,
                    r.paid_out_by, r.paid_out_at, r.created_at, r.updated_at, r.finished_at,
                    r.ticket_ids
             FROM refunds r JOIN payments p ON p.order_id = r.order_id"""


async def add(
    conn: asyncpg.Connection,
    *,
    refund_key: str,
    order_id: str,
    amount: int,
    reason: str,
    source: str,
    requested_by: str | None,
    method: RefundMethod,
    status: RefundStatus,
    hold_seconds: float = 0.0,
    ticket_ids: tuple[str, ...] = (),
) -> Refund | None:
    """Insert the intent; None if the key exists already (the same request).

    `hold_seconds` keeps the refund job away while the requester sends it itself; if the
    requester dies, the job sends it once the hold is over.
    """
    inserted = await conn.fetchval(
        """INSERT INTO refunds (refund_key, order_id, amount, reason, source, requested_by,
                                method, status, finished_at, next_attempt_at, ticket_ids)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
                   CASE WHEN $8 = 'succeeded' THEN now() END,
                   now() + make_interval(secs => $9), $10)
           ON CONFLICT (refund_key) DO NOTHING RETURNING refund_key""",
        refund_key,
        order_id,
        amount,
        reason[:255],
        source,
        requested_by,
        str(method),
        str(status),
        hold_seconds,
        list(ticket_ids),
    )
    return None if inserted is None else await by_key(conn, refund_key)


async def by_key(conn: asyncpg.Connection, refund_key: str) -> Refund | None:
    row = await conn.fetchrow(_SELECT + " WHERE r.refund_key = $1", refund_key)
    return None if row is None else _refund(row)


async def by_id(conn: asyncpg.Connection, refund_id: uuid.UUID) -> Refund | None:
    row = await conn.fetchrow(_SELECT + " WHERE r.refund_id = $1", refund_id)
    return None if row is None else _refund(row)


async def of_order(conn: asyncpg.Connection, order_id: str) -> list[Refund]:
    rows = await conn.fetch(_SELECT + " WHERE r.order_id = $1 ORDER BY r.created_at", order_id)
    return [_refund(r) for r in rows]


async def committed_amount(conn: asyncpg.Connection, order_id: str) -> int:
    """Rupiah our refunds hold beyond what Midtrans already shows as refunded."""
    value = await conn.fetchval(
        """SELECT coalesce(sum(amount), 0) FROM refunds
           WHERE order_id = $1
             AND status IN ('requested', 'pending', 'awaiting_payout', 'paid_out')""",
        order_id,
    )
    return int(value)


async def page(
    conn: asyncpg.Connection,
    *,
    status: RefundStatus | None,
    order_id: str | None,
    user_id: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Refund]:
    rows = await conn.fetch(
        _SELECT
        + """ WHERE ($1::text IS NULL OR r.status = $1)
                AND ($2::text IS NULL OR r.order_id = $2)
                AND ($3::text IS NULL OR p.user_id = $3)
                AND ($4::timestamptz IS NULL OR (r.created_at, r.refund_id) > ($4, $5::uuid))
              ORDER BY r.created_at, r.refund_id
              LIMIT $6""",
        None if status is None else str(status),
        order_id,
        user_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [_refund(r) for r in rows]


# ----- the refund job: claimed with a lease, so the Midtrans call holds no lock -----


async def claim_for_sending(
    conn: asyncpg.Connection, refund_key: str, *, lease_seconds: float
) -> Refund | None:
    """Take a `requested` refund for one attempt: due, or never sent; None if someone has it.

    The lease (next_attempt_at in the future) keeps other workers away while Midtrans is
    called outside any transaction; a crashed attempt is retried once the lease runs out,
    with the same refund_key, which Midtrans treats as the same refund.
    """
    taken = await conn.fetchval(
        """UPDATE refunds SET next_attempt_at = now() + make_interval(secs => $2),
                  attempts = attempts + 1, sent_at = now(), updated_at = now()
           WHERE refund_key = (SELECT refund_key FROM refunds
                               WHERE refund_key = $1 AND status = 'requested'
                                 AND (next_attempt_at <= now() OR sent_at IS NULL)
                               FOR UPDATE SKIP LOCKED)
           RETURNING refund_key""",
        refund_key,
        lease_seconds,
    )
    return None if taken is None else await by_key(conn, refund_key)


async def due(conn: asyncpg.Connection, limit: int) -> list[str]:
    rows = await conn.fetch(
        """SELECT refund_key FROM refunds WHERE status = 'requested' AND next_attempt_at <= now()
           ORDER BY next_attempt_at LIMIT $1""",
        limit,
    )
    return [r["refund_key"] for r in rows]


async def move(
    conn: asyncpg.Connection,
    refund_key: str,
    *,
    to: RefundStatus,
    only_from: frozenset[RefundStatus],
    gateway_body: dict[str, Any] | None = None,
    error: str | None = None,
    method: RefundMethod | None = None,
) -> bool:
    """Move a refund if it is in one of `only_from`; False if it had moved on already."""
    final = to in {RefundStatus.SUCCEEDED, RefundStatus.PAID_OUT, RefundStatus.FAILED}
    moved = await conn.fetchval(
        """UPDATE refunds SET status = $2, gateway_body = coalesce($4, gateway_body),
                  last_error = coalesce($5, last_error), method = coalesce($6, method),
                  finished_at = CASE WHEN $7 THEN now() ELSE finished_at END, updated_at = now()
           WHERE refund_key = $1 AND status = ANY($3::text[])
           RETURNING true""",
        refund_key,
        str(to),
        [str(s) for s in only_from],
        gateway_body,
        error,
        None if method is None else str(method),
        final,
    )
    return bool(moved)


async def postpone(conn: asyncpg.Connection, refund_key: str, error: str) -> None:
    await conn.execute(
        """UPDATE refunds SET last_error = $2, updated_at = now(),
                  next_attempt_at = now() + make_interval(secs => least(300, 2 ^ attempts))
           WHERE refund_key = $1 AND status = 'requested'""",
        refund_key,
        error,
    )


# ----- payouts -----


async def set_bank_account(
    conn: asyncpg.Connection, refund_id: uuid.UUID, account: BankAccount
) -> bool:
    done = await conn.fetchval(
        """UPDATE refunds SET bank_code = $2, account_number = $3, account_holder = $4,
                  bank_account_at = now(), updated_at = now()
           WHERE refund_id = $1 AND status = 'awaiting_payout' RETURNING true""",
        refund_id,
        account.bank_code,
        account.account_number,
        account.holder_name,
    )
    return bool(done)


async def mark_paid_out(
    conn: asyncpg.Connection, refund_id: uuid.UUID, *, reference: str, admin_id: str
) -> bool:
    done = await conn.fetchval(
        """UPDATE refunds SET status = 'paid_out', payout_reference = $2, paid_out_by = $3,
                  paid_out_at = now(), finished_at = now(), updated_at = now()
           WHERE refund_id = $1 AND status = 'awaiting_payout' AND bank_code IS NOT NULL
           RETURNING true""",
        refund_id,
        reference,
        admin_id,
    )
    return bool(done)
