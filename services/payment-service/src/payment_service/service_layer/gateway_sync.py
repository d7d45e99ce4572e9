"""Apply one gateway answer to a payment: decide, store, audit and write the events, in one go.

Every source (notification, reconciler, refund, expiry, API) goes through `apply_observation`
("apply what Midtrans' status API says about an order"), in a unit of work (`ports.PaymentWork`)
inside a transaction that holds the payment's row lock.

Every payment.* event is published as v3 (payment.declined as v2): it carries the payment's
status after the change and a per-payment `sequence`, reserved in the same transaction as the
outbox rows, so consumers apply only newer states whatever order the broker delivers them in;
and the order it pays for (`purchase_order_id`, `ticket_ids`).
"""

import logging
from datetime import UTC, datetime
from typing import Any

from servicekit.logs import log_fields
from ticketing_contracts import (
    EventPayload,
    PaymentDeclinedV2,
    PaymentFailedV3,
    PaymentInstructions,
    PaymentPendingV3,
    PaymentRefundedV3,
    PaymentSettledV3,
)

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
from payment_service.domain.payment import Payment
from payment_service.service_layer import refund_progress
from payment_service.service_layer.ports import PaymentWork

logger = logging.getLogger(__name__)

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
    work: PaymentWork,
    payment: Payment,
    body: dict[str, Any],
    *,
    source: str,
    notification_id: int | None = None,
) -> Decision:
    return await apply_observation(
        work,
        payment,
        observation_from(body),
        body=body,
        source=source,
        notification_id=notification_id,
    )


async def apply_observation(
    work: PaymentWork,
    payment: Payment,
    obs: Observation,
    *,
    body: dict[str, Any] | None,
    source: str,
    notification_id: int | None = None,
    reason: str | None = None,
    decision: Decision | None = None,
) -> Decision:
    """`decision`: the state machine's answer, when the caller already decided on this payment
    (under the same row lock); it is never decided twice."""
    if decision is None:
        decision = decide(payment.state, obs)
    events: list[str] = []
    if decision.changed:
        last = await work.save_gateway_state(
            payment.order_id,
            status=decision.status,
            refunded_amount=decision.refunded_amount,
            transaction_status=obs.transaction_status or None,
            fraud_status=obs.fraud_status,
            payment_type=obs.payment_type,
            transaction_id=obs.transaction_id,
            settled=decision.status in PAID,
            events=len(decision.events),
        )
        if decision.events:
            first = last - len(decision.events) + 1
            for sequence, kind in enumerate(decision.events, start=first):
                payload = _payload(kind, payment, decision, obs, body, reason, sequence)
                events.append(await work.publish(payload))
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
        await work.flag(payment.order_id, f"{source}: {decision.reason}")
        logger.error(
            "gateway answer contradicts the payment; flagged for review",
            extra=log_fields(order_id=payment.order_id, source=source, reason=decision.reason),
        )
    if decision.changed and decision.status in refund_progress.REFUND_STATUSES:
        # Our refunds this answer confirms, and refunds made elsewhere (the dashboard).
        await refund_progress.settle_from_gateway(
            work.refunds(),
            payment,
            status=decision.status,
            refunded_total=decision.refunded_amount,
            body=body,
        )
    if decision.verdict is Verdict.DUPLICATE and source in _QUIET_SOURCES:
        return decision  # a poll that found nothing new; its call is in gateway_calls
    await work.add_transition(
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
        **payment.event_facts(),
        "sequence": sequence,
        "payment_status": str(decision.status),
        "payment_type": obs.payment_type or payment.payment_type,
        "transaction_id": obs.transaction_id or payment.transaction_id,
    }
    if kind is EventKind.PENDING:
        instructions = payment_instructions(body or {})
        return PaymentPendingV3(
            **facts,
            expires_at=payment.expires_at,
            instructions=PaymentInstructions.model_validate(instructions) if instructions else None,
        )
    if kind is EventKind.SETTLED:
        return PaymentSettledV3(**facts, settled_at=datetime.now(UTC))
    if kind is EventKind.DECLINED:
        declined = reason or gateway_reason(body) or "the payment attempt was declined"
        return PaymentDeclinedV2(**facts, reason=declined)
    if kind is EventKind.FAILED:
        was_paid = payment.status in PAID
        why = reason or gateway_reason(body)
        if decision.status is PaymentStatus.REVERSED or was_paid:
            why = f"reversed after payment: {why or decision.status}"
        return PaymentFailedV3(
            **facts,
            transaction_status=_FAILED_STATUS[decision.status],
            reason=why,
        )
    refund_amount = decision.refunded_amount - payment.refunded_amount
    return PaymentRefundedV3(
        **facts,
        refund_amount=refund_amount,
        refunded_total=decision.refunded_amount,
        fully_refunded=decision.refunded_amount >= payment.amount,
        transaction_status=_REFUND_STATUS[decision.status],
        reason=reason,
    )
