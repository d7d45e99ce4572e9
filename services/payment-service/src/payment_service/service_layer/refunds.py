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
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from servicekit.logs import log_fields

from payment_service.domain.errors import (
    NotRefundable,
    PaymentNotFound,
    PayoutConflict,
    RefundNotFound,
)
from payment_service.domain.gateway import refund_key
from payment_service.domain.gateway_calls import (
    GatewayAnswer,
    MidtransError,
    MidtransRefused,
    MidtransUnavailable,
)
from payment_service.domain.model import REFUNDABLE, PaymentStatus
from payment_service.domain.payment import Payment
from payment_service.domain.refunds import (
    BankAccount,
    Refund,
    RefundMethod,
    RefundStatus,
    plan_refund,
)
from payment_service.service_layer.refund_progress import RefundStore, move_and_announce

logger = logging.getLogger(__name__)

# Longer than one Midtrans call with its retries (timeouts 10 s x 3 by default).
SEND_LEASE_SECONDS = 60.0
_REQUESTED = frozenset({RefundStatus.REQUESTED})


class RefundWork(RefundStore, Protocol):
    """The store, plus applying a gateway answer to the payment (the one state machine path)."""

    async def apply_gateway_answer(
        self, payment: Payment, body: dict[str, Any], *, reason: str
    ) -> PaymentStatus: ...


class RefundGateway(Protocol):
    """Midtrans' refund and cancel calls (MidtransClient)."""

    async def refund(
        self, transaction_id: str, *, refund_key: str, amount: int, reason: str
    ) -> GatewayAnswer: ...

    async def cancel(self, transaction_id: str) -> GatewayAnswer: ...


RefundStores = Callable[[], AbstractAsyncContextManager[RefundWork]]
"""A store on a connection of its own, for as long as the `async with` lasts."""


async def request_refund(
    store: RefundStore,
    payment: Payment,
    *,
    amount: int | None,
    reason: str,
    source: str,
    purpose: str,
    requested_by: str | None,
    partial_by_payout: bool,
    send_now: bool = False,
    ticket_ids: tuple[str, ...] = (),
) -> tuple[Refund, bool]:
    """Record the intent (the payment row locked); the same `purpose` is the same refund.

    `ticket_ids`: the tickets of the order this refund pays back (empty: not per ticket).
    """
    key = refund_key(payment.order_id, purpose)
    existing = await store.refund(key)
    if existing is not None:
        return existing, False
    if payment.status not in REFUNDABLE:
        raise NotRefundable(f"The payment of order {payment.order_id} is {payment.status}.")
    remaining = payment.amount - payment.refunded_amount
    remaining -= await store.committed_amount(payment.order_id)
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
    by_api = plan.method is RefundMethod.API
    refund = await store.add_refund(
        refund_key=key,
        order_id=payment.order_id,
        amount=wanted,
        reason=reason,
        source=source,
        requested_by=requested_by,
        method=plan.method,
        status=RefundStatus.REQUESTED if by_api else RefundStatus.AWAITING_PAYOUT,
        hold_seconds=SEND_LEASE_SECONDS if send_now else 0.0,
        ticket_ids=ticket_ids,
    )
    if refund is None:  # cannot happen while the payment's row is locked; be explicit anyway
        raise NotRefundable(f"The refund {key} was recorded meanwhile.")
    await store.announce(
        payment,
        refund,
        payment_status=None,
        verdict="refund_requested" if by_api else "payout_requested",
        detail=f"by {requested_by or source}: {reason}" + (f" ({plan.why})" if plan.why else ""),
    )
    return refund, True


async def request_admin_refund(
    stores: RefundStores,
    midtrans: RefundGateway,
    *,
    order_id: str,
    amount: int | None,
    reason: str,
    request_id: str | None,
    admin_id: str,
) -> Refund:
    """An admin's refund: recorded, then carried out at once; a repeat returns the same refund."""
    purpose = f"admin:{request_id}" if request_id else f"admin:{amount or 'full'}"
    async with stores() as store, store.transaction():
        payment = await store.payment(order_id, lock=True)
        if payment is None:
            raise PaymentNotFound(f"No payment for order {order_id}.")
        refund, _ = await request_refund(
            store,
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
        refund = await carry_out_refund(stores, midtrans, refund.refund_key) or refund
    return refund


async def carry_out_refund(
    stores: RefundStores, midtrans: RefundGateway, key: str
) -> Refund | None:
    """Send a due refund to Midtrans (no lock held during the call); the refund afterwards."""
    async with stores() as store:
        async with store.transaction():
            refund = await store.claim_for_sending(key, lease_seconds=SEND_LEASE_SECONDS)
            if refund is None:
                return await store.refund(key)
            payment = await store.payment(refund.order_id)
            if payment is None:
                raise PaymentNotFound(f"No payment for order {refund.order_id}.")
        cancel = payment.status is PaymentStatus.CAPTURED
        try:
            answer = await _send(midtrans, payment, refund, cancel=cancel)
        except MidtransError as exc:
            async with store.transaction():
                payment = await _locked(store, refund.order_id)
                await store.record_gateway_call(exc.answer, payment.order_id)
                await _refused_or_postponed(store, payment, refund, exc, cancel=cancel)
            return await store.refund(key)
        async with store.transaction():
            payment = await _locked(store, refund.order_id)
            await store.record_gateway_call(answer, payment.order_id)
            body = answer.body or {}
            if cancel:
                # A captured card cancelled: nothing settled, so the buyer is not charged at all.
                status = await store.apply_gateway_answer(payment, body, reason=refund.reason)
                await move_and_announce(
                    store,
                    payment,
                    refund,
                    to=RefundStatus.SUCCEEDED,
                    only_from=_REQUESTED,
                    payment_status=status,
                    gateway_body=body,
                    detail="captured card cancelled at Midtrans before settlement",
                )
            else:
                await move_and_announce(
                    store,
                    payment,
                    refund,
                    to=RefundStatus.PENDING,
                    only_from=_REQUESTED,
                    gateway_body=body,
                    detail="accepted by Midtrans; waiting for its final notification",
                )
        return await store.refund(key)


async def _locked(store: RefundStore, order_id: str) -> Payment:
    payment = await store.payment(order_id, lock=True)
    if payment is None:
        raise PaymentNotFound(f"No payment for order {order_id}.")
    return payment


async def _send(
    midtrans: RefundGateway, payment: Payment, refund: Refund, *, cancel: bool
) -> GatewayAnswer:
    transaction = payment.transaction_id or payment.order_id
    if cancel:
        return await midtrans.cancel(transaction)
    return await midtrans.refund(
        transaction, refund_key=refund.refund_key, amount=refund.amount, reason=refund.reason
    )


async def _refused_or_postponed(
    store: RefundStore, payment: Payment, refund: Refund, exc: MidtransError, *, cancel: bool
) -> None:
    fields = log_fields(order_id=payment.order_id, refund_key=refund.refund_key)
    refused_412 = isinstance(exc, MidtransRefused) and exc.status_code == 412
    if isinstance(exc, MidtransUnavailable) or (cancel and refused_412):
        # An outage, or a capture that settled meanwhile (next time it is refunded instead).
        await store.postpone(refund.refund_key, str(exc))
        logger.warning("refund not carried out now; will retry", extra=fields)
        return
    await store.flag(payment.order_id, f"refund refused: {exc}")
    if refused_412:
        # Midtrans will not refund this transaction: the money still goes back, by hand.
        await move_and_announce(
            store,
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
        store,
        payment,
        refund,
        to=RefundStatus.FAILED,
        only_from=_REQUESTED,
        gateway_body=exc.answer.body,
        error=str(exc),
    )
    logger.error("Midtrans refused a refund; flagged for review", extra=fields)


async def retry_due_refunds(stores: RefundStores, midtrans: RefundGateway, limit: int = 20) -> int:
    """The refund job: carry out intents that are due (new, or postponed by an outage)."""
    async with stores() as store:
        keys = await store.due_refunds(limit)
    for key in keys:
        await carry_out_refund(stores, midtrans, key)
    return len(keys)


# ----- what the buyer and admins see and do -----


@dataclass(frozen=True)
class RefundCaller:
    user_id: str
    is_admin: bool


async def refund_for(stores: RefundStores, refund_id: str, caller: RefundCaller) -> Refund:
    """The refund if the caller may see it (its buyer, or an admin); else RefundNotFound."""
    async with stores() as store:
        return await _visible(store, refund_id, caller)


async def refunds_of_order(stores: RefundStores, order_id: str) -> list[Refund]:
    """The order's refunds, oldest first (the caller was checked against the payment)."""
    async with stores() as store:
        return await store.refunds_of(order_id)


async def refunds_page(
    stores: RefundStores,
    caller: RefundCaller,
    *,
    status: RefundStatus | None,
    order_id: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Refund]:
    """Admins see every refund; a buyer only those of their own payments."""
    async with stores() as store:
        return await store.refunds_page(
            status=status,
            order_id=order_id,
            user_id=None if caller.is_admin else caller.user_id,
            after=after,
            limit=limit,
        )


async def give_bank_account(
    stores: RefundStores, refund_id: str, buyer_id: str, account: BankAccount
) -> Refund:
    """The buyer (only) says where a payout goes; it may be corrected until it is paid out."""
    async with stores() as store, store.transaction():
        refund = await _visible(store, refund_id, RefundCaller(buyer_id, is_admin=False))
        payment = await _locked(store, refund.order_id)
        if not await store.set_bank_account(refund.refund_id, account):
            raise PayoutConflict(f"The refund is {refund.status}: no bank account is needed.")
        await store.note(
            payment,
            verdict="bank_account_given",
            reason=f"refund {refund.refund_id}: {account.bank_code} {account.masked_number}",
        )
        after = await store.refund(refund.refund_key)
    if after is None:
        raise RefundNotFound(f"No refund {refund_id}.")
    return after


async def close_payout(
    stores: RefundStores, refund_id: str, *, reference: str, admin_id: str
) -> Refund:
    """An admin transferred the money: the payout is `paid_out` with the transfer's reference.

    Repeating it with the same reference returns the refund; another reference is refused.
    """
    async with stores() as store, store.transaction():
        found = await _visible(store, refund_id, RefundCaller(admin_id, is_admin=True))
        payment = await _locked(store, found.order_id)  # serialises admins on this payment
        refund = await store.refund(found.refund_key) or found
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
        await store.mark_paid_out(refund.refund_id, reference=reference, admin_id=admin_id)
        after = await store.refund(refund.refund_key)
        if after is None:
            raise RefundNotFound(f"No refund {refund_id}.")
        await store.announce(
            payment, after, payment_status=None, verdict="paid_out", detail=f"by {admin_id}"
        )
    return after


async def _visible(store: RefundStore, refund_id: str, caller: RefundCaller) -> Refund:
    try:
        parsed = uuid.UUID(refund_id)
    except ValueError as exc:
        raise RefundNotFound(f"No refund {refund_id}.") from exc
    refund = await store.refund_by_id(parsed)
    if refund is None or not (caller.is_admin or refund.user_id == caller.user_id):
        raise RefundNotFound(f"No refund {refund_id}.")
    return refund
