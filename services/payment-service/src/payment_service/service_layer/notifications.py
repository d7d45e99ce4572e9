"""Midtrans HTTP notifications: verify, check, confirm with the status API, apply, answer fast.

A notification is a hint, never a credential. Midtrans signs only order_id + status_code +
gross_amount, so a signature copied from any answer about the order verifies on a body that
claims another status. In order:

1. parse, and check the signature (with the notification key, defaulting to the server key);
2. check consistency: status_code must fit transaction_status, gross_amount and currency must
   be the order's (refused with 400, audited, never applied);
3. ask Midtrans' status API (`MIDTRANS_VERIFY_WITH_STATUS_API`, on everywhere but development)
   and apply *its* answer, not the notification's;
4. apply through the state machine under the payment's row lock.

A transient failure (the status API or the database) raises `NotificationDeferred`-like errors
that the route answers 503, so Midtrans keeps retrying. Invalid bodies are stored up to a budget
per minute; the rest are only counted.
"""

import logging
from dataclasses import dataclass
from typing import Any

from servicekit.logs import log_fields

from payment_service.adapters import repository as repo
from payment_service.adapters.midtrans import MidtransError, TransactionNotFound
from payment_service.adapters.repository import Payment
from payment_service.domain.errors import PaymentNotFound
from payment_service.domain.gateway import (
    AmountTampered,
    InconsistentNotification,
    InvalidSignature,
    MalformedNotification,
    Notification,
    check_consistency,
    observation_from,
    parse_notification,
    verify_signature,
)
from payment_service.domain.model import PaymentStatus, decide
from payment_service.service_layer.gateway_sync import apply_observation
from payment_service.service_layer.payments import Gateway

logger = logging.getLogger(__name__)

CONFIRMED = "confirmed with the status API"


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
    """Every body is audited with its verdict; only a verified, consistent one is applied."""
    try:
        notification = parse_notification(raw)
    except MalformedNotification as exc:
        await _audit_invalid(gw, raw, "malformed", str(exc), remote_addr=remote_addr)
        raise
    try:
        verify_signature(notification, gw.settings.notification_signing_key)
    except InvalidSignature:
        await _audit_invalid(
            gw, raw, "invalid_signature", None, notification, remote_addr=remote_addr
        )
        logger.warning(
            "notification with an invalid signature refused",
            extra=log_fields(order_id=notification.order_id[:100], remote_addr=remote_addr),
        )
        raise
    async with gw.pool.acquire() as conn:
        payment = await repo.get(conn, notification.order_id)
        if payment is None:
            await _record(conn, raw, notification, "unknown_order", None, remote_addr)
            raise PaymentNotFound(f"No payment for order {notification.order_id}.")
        try:
            check_consistency(notification, amount=payment.amount, currency=payment.currency)
        except InconsistentNotification as exc:
            async with conn.transaction():
                await _refuse(conn, raw, notification, payment, exc, remote_addr)
            raise
    body, reason = notification.body, None
    if gw.settings.midtrans_verify_with_status_api:
        body, reason = await _confirm_with_status_api(gw, raw, notification, remote_addr)
    outcome = await _apply(gw, raw, notification, body, reason, remote_addr)
    await gw.guards.status_cache.forget(notification.order_id)
    return outcome


async def _confirm_with_status_api(
    gw: Gateway, raw: bytes, notification: Notification, remote_addr: str | None
) -> tuple[dict[str, Any], str]:
    """Midtrans' own answer about the order: what gets applied instead of the notification."""
    try:
        answer = await gw.midtrans.status(notification.order_id)
    except TransactionNotFound as exc:
        await _audit(gw, raw, "unconfirmed", str(exc), notification, remote_addr=remote_addr)
        raise NotificationUnconfirmed(
            "Midtrans' status API does not know this transaction."
        ) from exc
    except MidtransError as exc:
        # 503 makes Midtrans retry; the reconciler also catches up later.
        await _audit(gw, raw, "deferred", str(exc), notification, remote_addr=remote_addr)
        raise
    assert answer.body is not None
    claimed, confirmed = notification.transaction_status, answer.body.get("transaction_status")
    if claimed != confirmed:
        logger.warning(
            "notification contradicted by the status API; applying Midtrans' answer",
            extra=log_fields(order_id=notification.order_id, claimed=claimed, confirmed=confirmed),
        )
        return answer.body, f"{CONFIRMED}: notification said {claimed[:30]}, Midtrans {confirmed}"
    return answer.body, CONFIRMED


async def _apply(
    gw: Gateway,
    raw: bytes,
    notification: Notification,
    body: dict[str, Any],
    reason: str | None,
    remote_addr: str | None,
) -> NotificationOutcome:
    async with gw.pool.acquire() as conn, conn.transaction():
        payment = await repo.get(conn, notification.order_id, lock=True)
        assert payment is not None  # payments are never deleted
        obs = observation_from(body)
        verdict = decide(payment.state, obs).verdict
        nid = await _record(conn, raw, notification, str(verdict), reason, remote_addr)
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
        return NotificationOutcome(payment.order_id, str(decision.verdict), decision.status)


async def _refuse(
    conn: Any,
    raw: bytes,
    notification: Notification,
    payment: Payment,
    exc: InconsistentNotification,
    remote_addr: str | None,
) -> None:
    """A correctly signed but inconsistent notification: audited, flagged, never applied."""
    verdict = "amount_mismatch" if isinstance(exc, AmountTampered) else "inconsistent"
    detail = str(exc)
    nid = await _record(conn, raw, notification, verdict, detail, remote_addr)
    await repo.flag(conn, payment.order_id, f"notification {nid}: {detail}")
    await repo.add_transition(
        conn,
        order_id=payment.order_id,
        from_status=str(payment.status),
        to_status=str(payment.status),
        source="notification",
        verdict="refused",
        reason=detail,
        gateway_body=notification.body,
        notification_id=nid,
    )
    logger.error(
        "inconsistent notification refused",
        extra=log_fields(order_id=payment.order_id, verdict=verdict, detail=detail),
    )


async def _record(
    conn: Any,
    raw: bytes,
    notification: Notification,
    verdict: str,
    detail: str | None,
    remote_addr: str | None,
) -> int:
    return await repo.record_notification(
        conn,
        raw_body=raw,
        verdict=verdict,
        detail=detail,
        order_id=notification.order_id,
        transaction_status=notification.transaction_status,
        signature_valid=True,
        remote_addr=remote_addr,
    )


async def _audit_invalid(
    gw: Gateway,
    raw: bytes,
    verdict: str,
    detail: str | None,
    notification: Notification | None = None,
    *,
    remote_addr: str | None,
) -> None:
    """Bodies anyone can send: stored up to the minute's budget, then only counted."""
    if await gw.guards.invalid_bodies.admit():
        await _audit(gw, raw, verdict, detail, notification, False, remote_addr=remote_addr)
        return
    async with gw.pool.acquire() as conn:
        await repo.count_dropped_notification(conn, verdict)


async def _audit(
    gw: Gateway,
    raw: bytes,
    verdict: str,
    detail: str | None,
    notification: Notification | None = None,
    signature_valid: bool | None = True,
    *,
    remote_addr: str | None,
) -> None:
    if notification is None:
        signature_valid = None
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
    "InconsistentNotification",
    "InvalidSignature",
    "MalformedNotification",
    "NotificationOutcome",
    "NotificationUnconfirmed",
    "receive_notification",
]
