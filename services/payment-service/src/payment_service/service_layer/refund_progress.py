"""Where a refund stands, told once per change: the audit row and `payment.refund_updated`.

Also what a gateway answer says about refunds: our API refunds it confirms (pending ->
succeeded) and refunds made elsewhere (the Midtrans dashboard), recorded so the buyer sees them.
Called by the one "apply an observation" path (gateway_sync), in its transaction.
"""

import logging
from typing import Any

import asyncpg
from servicekit.logs import log_fields
from servicekit.messaging import Outbox
from ticketing_contracts import PaymentRefundUpdated

from payment_service.adapters import refund_repository as refunds_repo
from payment_service.adapters import repository as repo
from payment_service.adapters.refund_repository import Refund
from payment_service.adapters.repository import Payment
from payment_service.domain.gateway import refund_key
from payment_service.domain.model import PaymentStatus
from payment_service.domain.refunds import (
    UNFINISHED,
    RefundMethod,
    RefundStatus,
    gateway_refunds,
    match_refunds,
)

logger = logging.getLogger(__name__)

REFUND_STATUSES = frozenset({PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED})


def payment_facts(payment: Payment) -> dict[str, Any]:
    return {
        "order_id": payment.order_id,
        "ticket_id": payment.ticket_id,
        "event_id": payment.event_id,
        "user_id": payment.user_id,
        "amount": payment.amount,
        "currency": payment.currency,
        "payment_type": payment.payment_type,
        "transaction_id": payment.transaction_id,
        "customer_name": payment.customer.get("name", ""),
        "customer_email": payment.customer.get("email", ""),
        "event_title": payment.metadata.get("event_title"),
        "event_starts_at": payment.metadata.get("event_starts_at"),
    }


async def announce(
    conn: asyncpg.Connection,
    outbox: Outbox,
    payment: Payment,
    refund: Refund,
    *,
    payment_status: PaymentStatus | None = None,
    verdict: str,
    detail: str | None = None,
) -> None:
    """Audit a refund's change and publish `payment.refund_updated` in the same transaction."""
    status = payment_status or payment.status
    sequence = await refunds_repo.next_event_sequence(conn, payment.order_id)
    envelope = await outbox.add(
        conn,
        PaymentRefundUpdated(
            **payment_facts(payment),
            sequence=sequence,
            payment_status=str(status),
            refund_id=str(refund.refund_id),
            refund_amount=refund.amount,
            method=refund.method.value,
            refund_status=refund.status.value,
            reason=refund.reason,
            reference=refund.payout_reference,
        ),
    )
    await repo.add_transition(
        conn,
        order_id=payment.order_id,
        from_status=str(payment.status),
        to_status=str(status),
        source="refund",
        verdict=verdict,
        reason=(
            f"refund {refund.refund_id} ({refund.method}, {refund.amount} IDR): {refund.status}"
            + (f"; {detail}" if detail else "")
        ),
        events=[envelope.event_type],
    )
    logger.info(
        "refund %s of %s: %s",
        refund.refund_id,
        payment.order_id,
        refund.status,
        extra=log_fields(order_id=payment.order_id, refund_key=refund.refund_key),
    )


async def move_and_announce(
    conn: asyncpg.Connection,
    outbox: Outbox,
    payment: Payment,
    refund: Refund,
    *,
    to: RefundStatus,
    only_from: frozenset[RefundStatus],
    payment_status: PaymentStatus | None = None,
    gateway_body: dict[str, Any] | None = None,
    error: str | None = None,
    method: RefundMethod | None = None,
    detail: str | None = None,
) -> Refund | None:
    """Move the refund if it still is in `only_from`, then announce it; None if it had moved."""
    moved = await refunds_repo.move(
        conn,
        refund.refund_key,
        to=to,
        only_from=only_from,
        gateway_body=gateway_body,
        error=error,
        method=method,
    )
    if not moved:
        return None
    after = await refunds_repo.by_key(conn, refund.refund_key)
    assert after is not None
    await announce(
        conn,
        outbox,
        payment,
        after,
        payment_status=payment_status,
        verdict=f"refund_{to}",
        detail=detail,
    )
    return after


async def settle_from_gateway(
    conn: asyncpg.Connection,
    outbox: Outbox,
    payment: Payment,
    *,
    status: PaymentStatus,
    refunded_total: int,
    body: dict[str, Any] | None,
) -> None:
    """Confirm our refunds Midtrans shows as done; record the ones made elsewhere."""
    if status not in REFUND_STATUSES:
        return
    ours = await refunds_repo.of_order(conn, payment.order_id)
    match = match_refunds([r.known() for r in ours], gateway_refunds(body or {}), refunded_total)
    by_key = {r.refund_key: r for r in ours}
    for key in match.confirmed:
        await move_and_announce(
            conn,
            outbox,
            payment,
            by_key[key],
            to=RefundStatus.SUCCEEDED,
            only_from=UNFINISHED,
            payment_status=status,
            detail="confirmed by Midtrans",
        )
    for external in match.external:
        key = external.refund_key or refund_key(payment.order_id, f"gateway:{refunded_total}")
        added = await refunds_repo.add(
            conn,
            refund_key=key,
            order_id=payment.order_id,
            amount=external.amount,
            reason=external.reason or "refunded outside payment-service (Midtrans dashboard)",
            source="midtrans",
            requested_by=None,
            method=RefundMethod.API,
            status=RefundStatus.SUCCEEDED,
        )
        if added is not None:
            await announce(
                conn,
                outbox,
                payment,
                added,
                payment_status=status,
                verdict="refund_found",
                detail="made outside payment-service",
            )
