"""Refunds: the intent is written first (with a stable refund_key), then carried out at Midtrans.

A crash between the two steps leaves the intent `requested`; the refund job retries it with the
same refund_key, which Midtrans treats as the same refund. So a refund is never lost, and a
retry never refunds twice.
"""

import logging

import asyncpg
from servicekit.logs import log_fields

from payment_service.adapters import repository as repo
from payment_service.adapters.midtrans import (
    MidtransRefused,
    MidtransUnavailable,
    TransactionNotFound,
)
from payment_service.adapters.repository import Payment, Refund
from payment_service.domain.errors import NotRefundable, PaymentNotFound
from payment_service.domain.gateway import observation_from, refund_key
from payment_service.domain.model import REFUNDABLE, Observation
from payment_service.service_layer.gateway_sync import apply_observation
from payment_service.service_layer.payments import Gateway

logger = logging.getLogger(__name__)


async def request_refund(
    conn: asyncpg.Connection,
    payment: Payment,
    *,
    amount: int | None,
    reason: str,
    source: str,
    purpose: str,
    requested_by: str | None,
) -> tuple[Refund, bool]:
    """Record the intent to refund; the same `purpose` for the same order is the same refund."""
    key = refund_key(payment.order_id, purpose)
    existing = await repo.get_refund(conn, key)
    if existing is not None:
        return existing, False
    if payment.status not in REFUNDABLE:
        raise NotRefundable(f"The payment of order {payment.order_id} is {payment.status}.")
    remaining = payment.amount - payment.refunded_amount
    wanted = remaining if amount is None else amount
    if wanted <= 0 or wanted > remaining:
        raise NotRefundable(
            f"A refund of {wanted} IDR is not possible; {remaining} IDR can still be refunded."
        )
    await repo.add_refund(
        conn,
        refund_key=key,
        order_id=payment.order_id,
        amount=wanted,
        reason=reason,
        source=source,
        requested_by=requested_by,
    )
    await repo.add_transition(
        conn,
        order_id=payment.order_id,
        from_status=str(payment.status),
        to_status=str(payment.status),
        source="refund",
        verdict="refund_requested",
        reason=f"{wanted} IDR by {requested_by or source}: {reason} (refund_key {key})",
    )
    refund = await repo.get_refund(conn, key)
    assert refund is not None
    return refund, True


async def request_admin_refund(
    gw: Gateway,
    *,
    order_id: str,
    amount: int | None,
    reason: str,
    request_id: str | None,
    admin_id: str,
) -> Refund:
    """An admin's refund: recorded, then carried out at once; a repeat returns the same refund."""
    purpose = f"admin:{request_id}" if request_id else f"admin:{amount or 'full'}"
    async with gw.pool.acquire() as conn, conn.transaction():
        payment = await repo.get(conn, order_id, lock=True)
        if payment is None:
            raise PaymentNotFound(f"No payment for order {order_id}.")
        refund, _ = await request_refund(
            conn,
            payment,
            amount=amount,
            reason=reason,
            source="admin",
            purpose=purpose,
            requested_by=admin_id,
        )
    if refund.status == "requested":
        refund = await carry_out_refund(gw, refund.refund_key) or refund
    return refund


async def carry_out_refund(gw: Gateway, key: str) -> Refund | None:
    """Ask Midtrans for a requested refund; None if another worker holds it right now."""
    async with gw.pool.acquire() as conn:
        async with conn.transaction():
            refund = await repo.get_refund(conn, key, lock_skip=True)
            if refund is None or refund.status != "requested":
                return refund
            payment = await repo.get(conn, refund.order_id, lock=True)
            assert payment is not None
            await _call_midtrans(conn, gw, refund, payment)
        return await repo.get_refund(conn, key)


async def _call_midtrans(
    conn: asyncpg.Connection, gw: Gateway, refund: Refund, payment: Payment
) -> None:
    fields = log_fields(order_id=payment.order_id, refund_key=refund.refund_key)
    try:
        answer = await gw.midtrans.refund(
            payment.transaction_id or payment.order_id,
            refund_key=refund.refund_key,
            amount=refund.amount,
            reason=refund.reason,
        )
    except (MidtransRefused, TransactionNotFound) as exc:
        await repo.record_gateway_call(conn, exc.answer, order_id=payment.order_id, source="refund")
        await repo.finish_refund(
            conn, refund.refund_key, status="refused", gateway_body=exc.answer.body, error=str(exc)
        )
        await repo.flag(conn, payment.order_id, f"refund refused: {exc}")
        logger.error("Midtrans refused a refund; flagged for review", extra=fields)
        return
    except MidtransUnavailable as exc:
        await repo.record_gateway_call(conn, exc.answer, order_id=payment.order_id, source="refund")
        await repo.postpone_refund(conn, refund.refund_key, str(exc))
        logger.warning("Midtrans unavailable for a refund; will retry", extra=fields)
        return
    await repo.record_gateway_call(conn, answer, order_id=payment.order_id, source="refund")
    await repo.finish_refund(
        conn, refund.refund_key, status="succeeded", gateway_body=answer.body, error=None
    )
    body = answer.body or {}
    obs = observation_from(body)
    if not isinstance(body.get("refunds"), list):
        # The refund answer's refund_amount is this refund's; the total is ours plus it.
        obs = Observation(
            transaction_status=obs.transaction_status,
            fraud_status=obs.fraud_status,
            refunded_total=payment.refunded_amount + refund.amount,
            settled_before=obs.settled_before,
            payment_type=obs.payment_type,
            transaction_id=obs.transaction_id,
            status_message=obs.status_message,
        )
    await apply_observation(
        conn, gw.outbox, payment, obs, body=body, source="refund", reason=refund.reason
    )


async def retry_due_refunds(gw: Gateway, limit: int = 20) -> int:
    """The refund job: carry out intents that are due (new, or postponed by an outage)."""
    async with gw.pool.acquire() as conn:
        keys = await repo.due_refunds(conn, limit)
    for key in keys:
        await carry_out_refund(gw, key)
    return len(keys)
