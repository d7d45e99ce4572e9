"""Midtrans HTTP notifications: verify, audit, apply through the state machine, answer fast."""

import logging
from dataclasses import dataclass
from typing import Any

from servicekit.logs import log_fields

from payment_service.adapters import repository as repo
from payment_service.adapters.midtrans import MidtransError, TransactionNotFound
from payment_service.domain.errors import PaymentNotFound
from payment_service.domain.gateway import (
    InvalidSignature,
    MalformedNotification,
    Notification,
    observation_from,
    parse_notification,
    parse_rupiah,
    verify_signature,
)
from payment_service.domain.model import PaymentStatus, decide
from payment_service.service_layer.gateway_sync import apply_observation
from payment_service.service_layer.payments import Gateway

logger = logging.getLogger(__name__)


class AmountTampered(ValueError):
    """A signed notification whose gross_amount is not the amount we opened the payment for."""


class NotificationUnconfirmed(ValueError):
    """MIDTRANS_VERIFY_WITH_STATUS_API is on and Midtrans does not know the transaction."""


@dataclass(frozen=True)
class NotificationOutcome:
    order_id: str
    verdict: str
    status: PaymentStatus


async def receive_notification(
    gw: Gateway, raw: bytes, *, remote_addr: str | None
) -> NotificationOutcome:
    """Every body is audited with its verdict; only a verified, known, exact one is applied."""
    try:
        notification = parse_notification(raw)
    except MalformedNotification as exc:
        await _audit(gw, raw, "malformed", str(exc), remote_addr=remote_addr)
        raise
    try:
        verify_signature(notification, gw.settings.midtrans_server_key.get_secret_value())
    except InvalidSignature:
        await _audit(
            gw, raw, "invalid_signature", None, notification, False, remote_addr=remote_addr
        )
        logger.warning(
            "notification with an invalid signature refused",
            extra=log_fields(order_id=notification.order_id[:100], remote_addr=remote_addr),
        )
        raise
    body = notification.body
    reason = None
    if gw.settings.midtrans_verify_with_status_api:
        body, reason = await _confirm_with_status_api(gw, raw, notification, remote_addr)
    return await _apply(gw, raw, notification, body, reason, remote_addr)


async def _confirm_with_status_api(
    gw: Gateway, raw: bytes, notification: Notification, remote_addr: str | None
) -> tuple[dict[str, Any], str]:
    try:
        answer = await gw.midtrans.status(notification.order_id)
    except TransactionNotFound as exc:
        await _audit(gw, raw, "unconfirmed", str(exc), notification, True, remote_addr=remote_addr)
        raise NotificationUnconfirmed(
            "Midtrans' status API does not know this transaction."
        ) from exc
    except MidtransError as exc:
        # 503 makes Midtrans retry; the reconciler also catches up later.
        await _audit(gw, raw, "deferred", str(exc), notification, True, remote_addr=remote_addr)
        raise
    assert answer.body is not None
    return answer.body, "confirmed with the status API"


async def _apply(
    gw: Gateway,
    raw: bytes,
    notification: Notification,
    body: dict[str, Any],
    reason: str | None,
    remote_addr: str | None,
) -> NotificationOutcome:
    order_id = notification.order_id
    refusal: Exception | None = None
    async with gw.pool.acquire() as conn, conn.transaction():
        payment = await repo.get(conn, order_id, lock=True)
        if payment is None:
            await repo.record_notification(
                conn,
                raw_body=raw,
                verdict="unknown_order",
                order_id=order_id,
                transaction_status=notification.transaction_status,
                signature_valid=True,
                remote_addr=remote_addr,
            )
            refusal = PaymentNotFound(f"No payment for order {order_id}.")
        elif parse_rupiah(notification.gross_amount) != payment.amount:
            detail = f"gross_amount {notification.gross_amount} but the payment is {payment.amount}"
            nid = await repo.record_notification(
                conn,
                raw_body=raw,
                verdict="amount_mismatch",
                detail=detail,
                order_id=order_id,
                transaction_status=notification.transaction_status,
                signature_valid=True,
                remote_addr=remote_addr,
            )
            await repo.flag(conn, order_id, f"notification {nid}: {detail}")
            await repo.add_transition(
                conn,
                order_id=order_id,
                from_status=str(payment.status),
                to_status=str(payment.status),
                source="notification",
                verdict="refused",
                reason=detail,
                gateway_body=notification.body,
                notification_id=nid,
            )
            logger.error("notification amount mismatch", extra=log_fields(order_id=order_id))
            refusal = AmountTampered(f"The amount does not match the order: {detail}.")
        else:
            obs = observation_from(body)
            verdict = decide(payment.state, obs).verdict
            nid = await repo.record_notification(
                conn,
                raw_body=raw,
                verdict=str(verdict),
                detail=reason,
                order_id=order_id,
                transaction_status=notification.transaction_status,
                signature_valid=True,
                remote_addr=remote_addr,
            )
            decision = await apply_observation(
                conn,
                gw.outbox,
                payment,
                obs,
                body=body,
                source="notification",
                notification_id=nid,
                reason=reason,
            )
            return NotificationOutcome(order_id, str(decision.verdict), decision.status)
    assert refusal is not None
    raise refusal


async def _audit(
    gw: Gateway,
    raw: bytes,
    verdict: str,
    detail: str | None,
    notification: Notification | None = None,
    signature_valid: bool | None = None,
    *,
    remote_addr: str | None,
) -> None:
    async with gw.pool.acquire() as conn:
        await repo.record_notification(
            conn,
            raw_body=raw,
            verdict=verdict,
            detail=detail,
            order_id=notification.order_id if notification else None,
            transaction_status=notification.transaction_status if notification else None,
            signature_valid=signature_valid,
            remote_addr=remote_addr,
        )


__all__ = [
    "AmountTampered",
    "InvalidSignature",
    "MalformedNotification",
    "NotificationOutcome",
    "NotificationUnconfirmed",
    "receive_notification",
]
