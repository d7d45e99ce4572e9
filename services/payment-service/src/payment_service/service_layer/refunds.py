"""Refunds: the intent is written first (with a stable refund_key), then carried out.

Per method (domain/refunds.py): by Midtrans' refund API (requested -> pending -> succeeded once
Midtrans' final notification or status answer shows it), by cancel for a captured card that has
not settled, or, where Midtrans cannot refund (VA, Mandiri bill, convenience stores, a window
passed), as a payout an admin makes by hand to the bank account the buyer gives
(awaiting_payout -> paid_out). Every change publishes `payment.refund_updated`.

The Midtrans call holds no lock: the refund is claimed with a lease, the call is made, and the
answer is recorded in a second transaction. A crash leaves the refund `requested`; once the
lease ends it is sent again with the same refund_key, which Midtrans treats as the same refund.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from servicekit.logs import log_fields
from servicekit.messaging import Outbox

from payment_service.adapters import refund_repository as refunds_repo
from payment_service.adapters import repository as repo
from payment_service.adapters.midtrans import (
    GatewayAnswer,
    MidtransError,
    MidtransRefused,
    MidtransUnavailable,
    TransactionNotFound,
)
from payment_service.adapters.refund_repository import Refund
from payment_service.adapters.repository import Payment
from payment_service.domain.errors import (
    NotRefundable,
    PaymentNotFound,
    PayoutConflict,
    RefundNotFound,
)
from payment_service.domain.gateway import observation_from, refund_key
from payment_service.domain.model import REFUNDABLE, PaymentStatus
from payment_service.domain.refunds import (
    BankAccount,
    RefundMethod,
    RefundStatus,
    plan_refund,
)
from payment_service.service_layer.gateway_sync import apply_observation
from payment_service.service_layer.payments import Gateway
from payment_service.service_layer.refund_progress import announce, move_and_announce

logger = logging.getLogger(__name__)

# Longer than one Midtrans call with its retries (timeouts 10 s x 3 by default).
SEND_LEASE_SECONDS = 60.0
_REQUESTED = frozenset({RefundStatus.REQUESTED})


async def request_refund(
    conn: asyncpg.Connection,
    outbox: Outbox,
    payment: Payment,
    *,
    amount: int | None,
    reason: str,
    source: str,
    purpose: str,
    requested_by: str | None,
    partial_by_payout: bool,
    send_now: bool = False,
) -> tuple[Refund, bool]:
    """Record the intent (the payment row locked); the same `purpose` is the same refund."""
    key = refund_key(payment.order_id, purpose)
    existing = await refunds_repo.by_key(conn, key)
    if existing is not None:
        return existing, False
    if payment.status not in REFUNDABLE:
        raise NotRefundable(f"The payment of order {payment.order_id} is {payment.status}.")
    committed = await refunds_repo.committed_amount(conn, payment.order_id)
    remaining = payment.amount - payment.refunded_amount - committed
    wanted = remaining if amount is None else amount
    if wanted <= 0 or wanted > remaining:
        raise NotRefundable(
            f"A refund of {wanted} IDR is not possible; {max(remaining, 0)} IDR can still be "
            "refunded."
        )
    plan = plan_refund(
        payment.payment_type,
        amount=wanted,
        refundable=payment.amount - payment.refunded_amount,
        captured_unsettled=payment.status is PaymentStatus.CAPTURED,
        paid_at=payment.settled_at,
        now=datetime.now(UTC),
        partial_by_payout=partial_by_payout,
    )
    status = (
        RefundStatus.REQUESTED if plan.method is RefundMethod.API else RefundStatus.AWAITING_PAYOUT
    )
    refund = await refunds_repo.add(
        conn,
        refund_key=key,
        order_id=payment.order_id,
        amount=wanted,
        reason=reason,
        source=source,
        requested_by=requested_by,
        method=plan.method,
        status=status,
        hold_seconds=SEND_LEASE_SECONDS if send_now else 0.0,
    )
    assert refund is not None  # the payment row lock serialises requests of one order
    await announce(
        conn,
        outbox,
        payment,
        refund,
        verdict="refund_requested" if status is RefundStatus.REQUESTED else "payout_requested",
        detail=f"by {requested_by or source}: {reason}" + (f" ({plan.why})" if plan.why else ""),
    )
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
            gw.outbox,
            payment,
            amount=amount,
            reason=reason,
            source="admin",
            purpose=purpose,
            requested_by=admin_id,
            partial_by_payout=False,
            send_now=True,
        )
    if refund.status is RefundStatus.REQUESTED:
        refund = await carry_out_refund(gw, refund.refund_key) or refund
    return refund


async def carry_out_refund(gw: Gateway, key: str) -> Refund | None:
    """Send a due refund to Midtrans (no lock held during the call); the refund afterwards."""
    async with gw.pool.acquire() as conn:
        async with conn.transaction():
            refund = await refunds_repo.claim_for_sending(
                conn, key, lease_seconds=SEND_LEASE_SECONDS
            )
            if refund is None:
                return await refunds_repo.by_key(conn, key)
            payment = await repo.get(conn, refund.order_id)
            assert payment is not None
        cancel = payment.status is PaymentStatus.CAPTURED
        answer: GatewayAnswer | None = None
        error: MidtransError | None = None
        try:
            answer = await _send(gw, payment, refund, cancel=cancel)
        except MidtransError as exc:
            error = exc
        async with conn.transaction():
            payment = await repo.get(conn, refund.order_id, lock=True)
            assert payment is not None
            await repo.record_gateway_call(
                conn,
                answer or error.answer,  # type: ignore[union-attr]
                order_id=payment.order_id,
                source="refund",
            )
            if error is not None:
                await _refused_or_postponed(conn, gw, payment, refund, error, cancel=cancel)
            elif cancel:
                await _cancelled(conn, gw, payment, refund, answer)
            else:
                await move_and_announce(
                    conn,
                    gw.outbox,
                    payment,
                    refund,
                    to=RefundStatus.PENDING,
                    only_from=_REQUESTED,
                    gateway_body=answer.body if answer else None,
                    detail="accepted by Midtrans; waiting for its final notification",
                )
        return await refunds_repo.by_key(conn, key)


async def _send(gw: Gateway, payment: Payment, refund: Refund, *, cancel: bool) -> GatewayAnswer:
    transaction = payment.transaction_id or payment.order_id
    if cancel:
        return await gw.midtrans.cancel(transaction)
    return await gw.midtrans.refund(
        transaction, refund_key=refund.refund_key, amount=refund.amount, reason=refund.reason
    )


async def _cancelled(
    conn: asyncpg.Connection,
    gw: Gateway,
    payment: Payment,
    refund: Refund,
    answer: GatewayAnswer | None,
) -> None:
    """A captured card cancelled: nothing was settled, so the buyer is not charged at all."""
    body = (answer.body if answer else None) or {}
    decision = await apply_observation(
        conn,
        gw.outbox,
        payment,
        observation_from(body),
        body=body,
        source="refund",
        reason=refund.reason,
    )
    await move_and_announce(
        conn,
        gw.outbox,
        payment,
        refund,
        to=RefundStatus.SUCCEEDED,
        only_from=_REQUESTED,
        payment_status=decision.status,
        gateway_body=body,
        detail="captured card cancelled at Midtrans before settlement",
    )


async def _refused_or_postponed(
    conn: asyncpg.Connection,
    gw: Gateway,
    payment: Payment,
    refund: Refund,
    exc: MidtransError,
    *,
    cancel: bool,
) -> None:
    fields = log_fields(order_id=payment.order_id, refund_key=refund.refund_key)
    refused_412 = isinstance(exc, MidtransRefused) and exc.status_code == 412
    if isinstance(exc, MidtransUnavailable) or (cancel and refused_412):
        # An outage, or a capture that settled meanwhile (next time it is refunded instead).
        await refunds_repo.postpone(conn, refund.refund_key, str(exc))
        logger.warning("refund not carried out now; will retry", extra=fields)
        return
    await repo.flag(conn, payment.order_id, f"refund refused: {exc}")
    if refused_412 and not isinstance(exc, TransactionNotFound):
        # Midtrans will not refund this transaction: the money still goes back, by hand.
        await move_and_announce(
            conn,
            gw.outbox,
            payment,
            refund,
            to=RefundStatus.AWAITING_PAYOUT,
            only_from=_REQUESTED,
            method=RefundMethod.PAYOUT,
            gateway_body=exc.answer.body,
            error=str(exc),
            detail="Midtrans refused the API refund; to be paid out",
        )
        logger.error("Midtrans refused a refund; it becomes a payout, flagged", extra=fields)
        return
    await move_and_announce(
        conn,
        gw.outbox,
        payment,
        refund,
        to=RefundStatus.FAILED,
        only_from=_REQUESTED,
        gateway_body=exc.answer.body,
        error=str(exc),
    )
    logger.error("Midtrans refused a refund; flagged for review", extra=fields)


async def retry_due_refunds(gw: Gateway, limit: int = 20) -> int:
    """The refund job: carry out intents that are due (new, or postponed by an outage)."""
    async with gw.pool.acquire() as conn:
        keys = await refunds_repo.due(conn, limit)
    for key in keys:
        await carry_out_refund(gw, key)
    return len(keys)


# ----- what the buyer and admins see and do -----


@dataclass(frozen=True)
class RefundCaller:
    user_id: str
    is_admin: bool


async def refund_for(gw: Gateway, refund_id: str, caller: RefundCaller) -> Refund:
    """The refund if the caller may see it (its buyer, or an admin); else RefundNotFound."""
    async with gw.pool.acquire() as conn:
        refund = await _visible(conn, refund_id, caller)
    return refund


async def refunds_page(
    gw: Gateway,
    caller: RefundCaller,
    *,
    status: RefundStatus | None,
    order_id: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Refund]:
    """Admins see every refund; a buyer only those of their own payments."""
    async with gw.pool.acquire() as conn:
        return await refunds_repo.page(
            conn,
            status=status,
            order_id=order_id,
            user_id=None if caller.is_admin else caller.user_id,
            after=after,
            limit=limit,
        )


async def give_bank_account(
    gw: Gateway, refund_id: str, caller: RefundCaller, account: BankAccount
) -> Refund:
    """The buyer says where a payout goes; may be corrected until it is paid out."""
    async with gw.pool.acquire() as conn, conn.transaction():
        refund = await _visible(conn, refund_id, RefundCaller(caller.user_id, is_admin=False))
        payment = await repo.get(conn, refund.order_id, lock=True)
        assert payment is not None
        if not await refunds_repo.set_bank_account(conn, refund.refund_id, account):
            raise PayoutConflict(f"The refund is {refund.status}: no bank account is needed.")
        await repo.add_transition(
            conn,
            order_id=payment.order_id,
            from_status=str(payment.status),
            to_status=str(payment.status),
            source="refund",
            verdict="bank_account_given",
            reason=f"refund {refund.refund_id}: {account.bank_code} {account.masked_number}",
        )
        after = await refunds_repo.by_key(conn, refund.refund_key)
    assert after is not None
    return after


async def close_payout(gw: Gateway, refund_id: str, *, reference: str, admin_id: str) -> Refund:
    """An admin transferred the money: the payout is `paid_out` with the transfer's reference.

    Repeating it with the same reference returns the refund; another reference is refused.
    """
    async with gw.pool.acquire() as conn, conn.transaction():
        refund = await _visible(conn, refund_id, RefundCaller(admin_id, is_admin=True))
        payment = await repo.get(conn, refund.order_id, lock=True)
        assert payment is not None
        refund = await refunds_repo.by_key(conn, refund.refund_key) or refund
        if refund.status is RefundStatus.PAID_OUT:
            if refund.payout_reference == reference:
                return refund
            raise PayoutConflict(
                f"The refund was paid out already with reference {refund.payout_reference}."
            )
        if refund.status is not RefundStatus.AWAITING_PAYOUT:
            raise PayoutConflict(f"The refund is {refund.status}, not awaiting a payout.")
        if refund.bank_account is None:
            raise PayoutConflict("The buyer has not given a bank account yet.")
        await refunds_repo.mark_paid_out(
            conn, refund.refund_id, reference=reference, admin_id=admin_id
        )
        after = await refunds_repo.by_key(conn, refund.refund_key)
        assert after is not None
        await announce(conn, gw.outbox, payment, after, verdict="paid_out", detail=f"by {admin_id}")
    return after


async def _visible(conn: asyncpg.Connection, refund_id: str, caller: RefundCaller) -> Refund:
    try:
        parsed = uuid.UUID(refund_id)
    except ValueError as exc:
        raise RefundNotFound(f"No refund {refund_id}.") from exc
    refund = await refunds_repo.by_id(conn, parsed)
    if refund is None or not (caller.is_admin or refund.user_id == caller.user_id):
        raise RefundNotFound(f"No refund {refund_id}.")
    return refund
