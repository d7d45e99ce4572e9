"""Background work against Midtrans: find lost notifications, close payments of released seats.

Both jobs claim their rows with a conditional UPDATE over FOR UPDATE SKIP LOCKED, so several
replicas never work on the same payment at once, and apply what Midtrans says through the same
state machine as notifications, recorded with its source.
"""

import logging
from datetime import UTC, datetime, timedelta

import asyncpg
from servicekit.logs import log_fields

from payment_service.adapters import repository as repo
from payment_service.adapters.midtrans import (
    GatewayAnswer,
    MidtransError,
    MidtransRefused,
    TransactionNotFound,
)
from payment_service.adapters.repository import Payment
from payment_service.domain.gateway import observation_from
from payment_service.domain.model import Observation, PaymentStatus, is_open
from payment_service.service_layer.gateway_sync import apply_gateway_body, apply_observation
from payment_service.service_layer.payments import Gateway

logger = logging.getLogger(__name__)


async def reconcile_pending(gw: Gateway) -> int:
    """Ask Midtrans about payments that stayed open too long (a notification may be lost)."""
    settings = gw.settings
    async with gw.pool.acquire() as conn:
        order_ids = await repo.claim_for_reconciliation(
            conn,
            older_than_seconds=settings.reconcile_pending_after_seconds,
            limit=settings.reconcile_batch_size,
        )
    for order_id in order_ids:
        try:
            await _reconcile_one(gw, order_id)
        except MidtransError as exc:
            logger.warning(
                "reconciler could not reach Midtrans",
                extra=log_fields(order_id=order_id, error=str(exc)),
            )
    return len(order_ids)


async def _reconcile_one(gw: Gateway, order_id: str) -> None:
    async with gw.pool.acquire() as conn, conn.transaction():
        payment = await repo.get(conn, order_id, lock=True)
        if payment is None:
            return
        answer = await _status(conn, gw, payment, source="reconciler")
        if answer is None:
            await _expire_if_session_over(conn, gw, payment, source="reconciler")
            return
        assert answer.body is not None
        await apply_gateway_body(conn, gw.outbox, payment, answer.body, source="reconciler")


async def request_close(conn: asyncpg.Connection, order_id: str, *, why: str) -> bool:
    """Mark an open payment to be expired at Midtrans (the seat was released)."""
    payment = await repo.get(conn, order_id, lock=True)
    if payment is None or not is_open(payment.status):
        return False
    await repo.request_close(conn, order_id)
    await repo.add_transition(
        conn,
        order_id=order_id,
        from_status=str(payment.status),
        to_status=str(payment.status),
        source="expiry",
        verdict="close_requested",
        reason=why,
    )
    return True


async def close_released_payments(gw: Gateway, retry_seconds: float = 5.0) -> int:
    """The expiry job: expire (or cancel) at Midtrans what is still open for a released seat."""
    async with gw.pool.acquire() as conn:
        order_ids = await repo.claim_closing(conn, limit=20, retry_seconds=retry_seconds)
    for order_id in order_ids:
        try:
            await _close_one(gw, order_id)
        except MidtransError as exc:
            logger.warning(
                "could not close a payment at Midtrans; will retry",
                extra=log_fields(order_id=order_id, error=str(exc)),
            )
    return len(order_ids)


async def _close_one(gw: Gateway, order_id: str) -> None:
    async with gw.pool.acquire() as conn, conn.transaction():
        payment = await repo.get(conn, order_id, lock=True)
        if payment is None or not is_open(payment.status):
            return
        answer = await _status(conn, gw, payment, source="expiry")
        if answer is None:
            await _expire_if_session_over(conn, gw, payment, source="expiry")
            return
        assert answer.body is not None
        status = observation_from(answer.body)
        target = _closing_call(status)
        if target is not None:
            try:
                answer = await (
                    gw.midtrans.expire(order_id)
                    if target == "expire"
                    else gw.midtrans.cancel(order_id)
                )
            except MidtransRefused as exc:
                # It moved on meanwhile (paid, or expired by Midtrans): take its current state.
                await repo.record_gateway_call(conn, exc.answer, order_id=order_id, source="expiry")
                answer = await gw.midtrans.status(order_id)
            await repo.record_gateway_call(conn, answer, order_id=order_id, source="expiry")
        assert answer.body is not None
        if observation_from(answer.body).transaction_status == "deny":
            # The last attempt was declined and the seat is released: the order ends here
            # (Midtrans has nothing left to expire; a later payment would be late money).
            await apply_observation(
                conn,
                gw.outbox,
                payment,
                Observation(transaction_status="expire"),
                body=answer.body,
                source="expiry",
                reason="the seat was released after a declined attempt",
            )
            return
        await apply_gateway_body(conn, gw.outbox, payment, answer.body, source="expiry")


def _closing_call(obs: Observation) -> str | None:
    if obs.transaction_status == "pending":
        return "expire"
    if obs.transaction_status == "capture" and obs.fraud_status == "challenge":
        return "cancel"
    return None


async def _status(
    conn: asyncpg.Connection, gw: Gateway, payment: Payment, *, source: str
) -> GatewayAnswer | None:
    """Midtrans' status, recorded; None when Midtrans has no transaction for the order.

    Asked by order_id, as the status endpoint does: after a declined card and a retry the order
    has a new Midtrans transaction, and the stored transaction_id may be the declined one.
    """
    try:
        answer = await gw.midtrans.status(payment.order_id)
    except TransactionNotFound as exc:
        await repo.record_gateway_call(conn, exc.answer, order_id=payment.order_id, source=source)
        return None
    except MidtransError as exc:
        await repo.record_gateway_call(conn, exc.answer, order_id=payment.order_id, source=source)
        raise
    await repo.record_gateway_call(conn, answer, order_id=payment.order_id, source=source)
    return answer


async def _expire_if_session_over(
    conn: asyncpg.Connection, gw: Gateway, payment: Payment, *, source: str
) -> None:
    """No Midtrans transaction: once the Snap session is surely over, nobody can pay any more."""
    grace = timedelta(seconds=gw.settings.unpaid_grace_seconds)
    if (
        payment.status is not PaymentStatus.CREATED
        or datetime.now(UTC) < payment.expires_at + grace
    ):
        return
    await apply_observation(
        conn,
        gw.outbox,
        payment,
        Observation(transaction_status="expire"),
        body=None,
        source=source,
        reason="Midtrans has no transaction and the Snap session has ended",
    )
