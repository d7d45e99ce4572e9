"""Apply one gateway answer to a payment: decide, store, audit and write the events, in one go.

Every source (notification, reconciler, refund, expiry, API) goes through `apply_observation`
("apply what Midtrans' status API says about an order"), on a connection inside a transaction
that holds the payment's row lock.

Every payment.* event is published as v2: it carries the payment's status after the change and
a per-payment `sequence`, reserved in the same transaction as the outbox rows, so consumers
apply only newer states whatever order the broker delivers them in.
"""

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
from servicekit.logs import log_fields
from servicekit.messaging import Outbox
from ticketing_contracts import (
    EventPayload,
    PaymentDeclined,
    PaymentFailedV2,
    PaymentInstructions,
    PaymentPendingV2,
    PaymentRefundedV2,
    PaymentSettledV2,
)

from payment_service.adapters import repository as repo
from payment_service.adapters.repository import Payment
from payment_service.domain.gateway import gateway_reason, observation_from, payment_instructions
from payment_service.domain.model import (
    PAID,
    Decision,
    EventKind,
    Observation,
    PaymentStatus,
    Verdict,
    decide,
    is_late_money,
)
from payment_service.service_layer import refund_progress
from payment_service.service_layer.refund_progress import RefundStore

logger = logging.getLogger(__name__)

# The refunds port on the connection and outbox of the observation being applied. Wired by the
# composition root (`bootstrap`, through `wiring.wire_gateway_sync`): the service layer never
# builds a concrete store itself.
RefundStoreOn = Callable[[asyncpg.Connection, Outbox], RefundStore]
_refund_store_on: RefundStoreOn | None = None


def use_refund_store(factory: RefundStoreOn) -> None:
    """Set the refunds store every observation confirms refunds in (once, at start-up)."""
    global _refund_store_on  # the composition root's one wiring point
    _refund_store_on = factory


def _refund_store(conn: asyncpg.Connection, outbox: Outbox) -> RefundStore:
    if _refund_store_on is None:
        raise RuntimeError("gateway_sync: no refund store wired (wiring.wire_gateway_sync)")
    return _refund_store_on(conn, outbox)


_FAILED_STATUS = {
    PaymentStatus.DENIED: "deny",
    PaymentStatus.REVERSED: "deny",
    PaymentStatus.CANCELLED: "cancel",
    PaymentStatus.EXPIRED: "expire",
    PaymentStatus.FAILED: "failure",
}
# Sources that poll: an answer that changes nothing is not worth a transition row.
_QUIET_SOURCES = frozenset({"api", "reconciler"})
_REFUND_STATUS = {
    PaymentStatus.REFUNDED: "refund",
    PaymentStatus.PARTIALLY_REFUNDED: "partial_refund",
    PaymentStatus.CHARGED_BACK: "chargeback",
    PaymentStatus.PARTIALLY_CHARGED_BACK: "partial_chargeback",
}


async def apply_gateway_body(
    conn: asyncpg.Connection,
    outbox: Outbox,
    payment: Payment,
    body: dict[str, Any],
    *,
    source: str,
    notification_id: int | None = None,
) -> Decision:
    return await apply_observation(
        conn,
        outbox,
        payment,
        observation_from(body),
        body=body,
        source=source,
        notification_id=notification_id,
    )


async def apply_observation(
    conn: asyncpg.Connection,
    outbox: Outbox,
    payment: Payment,
    obs: Observation,
    *,
    body: dict[str, Any] | None,
    source: str,
    notification_id: int | None = None,
    reason: str | None = None,
) -> Decision:
    decision = decide(payment.state, obs)
    events: list[str] = []
    if decision.changed:
        await repo.save_gateway_state(
            conn,
            payment.order_id,
            status=decision.status,
            refunded_amount=decision.refunded_amount,
            transaction_status=obs.transaction_status or None,
            fraud_status=obs.fraud_status,
            payment_type=obs.payment_type,
            transaction_id=obs.transaction_id,
            settled=decision.status in PAID,
        )
        if decision.events:
            last = await repo.advance_event_sequence(conn, payment.order_id, len(decision.events))
            first = last - len(decision.events) + 1
            for sequence, kind in enumerate(decision.events, start=first):
                payload = _payload(kind, payment, decision, obs, body, reason, sequence)
                envelope = await outbox.add(conn, payload)
                events.append(envelope.event_type)
        if is_late_money(payment.status, decision.status):
            # Not a conflict any more: the buyer paid, so ticket-service gives the seat back if
            # it is free, else asks for a refund. Logged for a person all the same.
            late = f"late money: {obs.transaction_status} after {payment.status}"
            reason = f"{late}; {reason}" if reason else late
            logger.warning(
                "money arrived after the payment ended; applied",
                extra=log_fields(order_id=payment.order_id, before=str(payment.status)),
            )
    elif decision.verdict in {Verdict.CONFLICT, Verdict.UNKNOWN_STATUS}:
        await repo.flag(conn, payment.order_id, f"{source}: {decision.reason}")
        logger.error(
            "gateway answer contradicts the payment; flagged for review",
            extra=log_fields(order_id=payment.order_id, source=source, reason=decision.reason),
        )
    if decision.changed and decision.status in refund_progress.REFUND_STATUSES:
        # Our refunds this answer confirms, and refunds made elsewhere (the dashboard).
        await refund_progress.settle_from_gateway(
            _refund_store(conn, outbox),
            payment,
            status=decision.status,
            refunded_total=decision.refunded_amount,
            body=body,
        )
    if decision.verdict is Verdict.DUPLICATE and source in _QUIET_SOURCES:
        return decision  # a poll that found nothing new; its call is in gateway_calls
    await repo.add_transition(
        conn,
        order_id=payment.order_id,
        from_status=str(payment.status),
        to_status=str(decision.status),
        source=source,
        verdict=str(decision.verdict),
        reason=reason or decision.reason,
        events=events,
        gateway_body=body,
        notification_id=notification_id,
    )
    logger.info(
        "payment %s: %s -> %s (%s)",
        payment.order_id,
        payment.status,
        decision.status,
        decision.verdict,
        extra=log_fields(
            order_id=payment.order_id, source=source, verdict=str(decision.verdict), events=events
        ),
    )
    return decision


def _payload(
    kind: EventKind,
    payment: Payment,
    decision: Decision,
    obs: Observation,
    body: dict[str, Any] | None,
    reason: str | None,
    sequence: int,
) -> EventPayload:
    facts: dict[str, Any] = {
        "sequence": sequence,
        "payment_status": str(decision.status),
        "order_id": payment.order_id,
        "ticket_id": payment.ticket_id,
        "event_id": payment.event_id,
        "user_id": payment.user_id,
        "amount": payment.amount,
        "currency": payment.currency,
        "payment_type": obs.payment_type or payment.payment_type,
        "transaction_id": obs.transaction_id or payment.transaction_id,
        "customer_name": payment.customer.get("name", ""),
        "customer_email": payment.customer.get("email", ""),
        "event_title": payment.metadata.get("event_title"),
        "event_starts_at": payment.metadata.get("event_starts_at"),
    }
    if kind is EventKind.PENDING:
        instructions = payment_instructions(body or {})
        return PaymentPendingV2(
            **facts,
            expires_at=payment.expires_at,
            instructions=PaymentInstructions.model_validate(instructions) if instructions else None,
        )
    if kind is EventKind.SETTLED:
        return PaymentSettledV2(**facts, settled_at=datetime.now(UTC))
    if kind is EventKind.DECLINED:
        declined = reason or gateway_reason(body) or "the payment attempt was declined"
        return PaymentDeclined(**facts, reason=declined)
    if kind is EventKind.FAILED:
        was_paid = payment.status in PAID
        why = reason or gateway_reason(body)
        if decision.status is PaymentStatus.REVERSED or was_paid:
            why = f"reversed after payment: {why or decision.status}"
        return PaymentFailedV2(
            **facts,
            transaction_status=_FAILED_STATUS[decision.status],
            reason=why,
        )
    refund_amount = decision.refunded_amount - payment.refunded_amount
    return PaymentRefundedV2(
        **facts,
        refund_amount=refund_amount,
        refunded_total=decision.refunded_amount,
        fully_refunded=decision.refunded_amount >= payment.amount,
        transaction_status=_REFUND_STATUS[decision.status],
        reason=reason,
    )
