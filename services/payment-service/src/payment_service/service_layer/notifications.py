"""Midtrans HTTP notifications: verify, check, confirm with the status API, apply, answer fast.

A notification is a hint, never a credential. Midtrans signs only order_id + status_code +
gross_amount, so a signature copied from any answer about the order verifies on a body that
claims another status. In order:

1. parse, and check the signature (with the notification key, defaulting to the server key);
2. check consistency: status_code must fit transaction_status, gross_amount and currency must
   be the order's (refused with 400, audited, flagged, never applied);
3. ask Midtrans' status API (`MIDTRANS_VERIFY_WITH_STATUS_API`, on everywhere but development)
   and apply *its* answer, not the notification's;
4. apply through the state machine under the payment's row lock (the ledger's `apply`).

A notification that claims exactly the state the payment holds (a retry, or the second of a
pending/settlement pair that arrived late) cannot change it, whatever Midtrans would say: it is
audited as a duplicate without asking, in one statement that finds the payment still in the
state read (`record_agreement`). Only a claim of something new costs a status call; if Midtrans
moved on meanwhile, its own notification (or the reconciler) brings that.

A status-API outage raises `StatusApiUnavailable` and a database failure propagates: the route
answers both 503, so Midtrans keeps retrying. Invalid bodies are stored up to a budget per
minute; the rest are only counted.

The use case sees its collaborators through the ports below; bootstrap wires PostgreSQL
(`notification_ledger.PaymentNotificationLedger` on the PostgreSQL unit of work), Midtrans
and Redis, the unit tests fakes.
"""

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from servicekit.logs import log_fields

from payment_service.domain.errors import PaymentNotFound, StatusApiUnavailable
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
from payment_service.domain.model import Decision, PaymentState, PaymentStatus, Verdict, decide

logger = logging.getLogger(__name__)

CONFIRMED = "confirmed with the status API"
AGREES = "claims the state the payment holds; the status API was not asked"


class NotificationUnconfirmed(ValueError):
    """MIDTRANS_VERIFY_WITH_STATUS_API is on and Midtrans does not know the transaction."""


@dataclass(frozen=True)
class Received:
    """One notification body as the audit log keeps it."""

    raw: bytes
    remote_addr: str | None
    notification: Notification | None = None
    signature_valid: bool | None = None  # None: not even parsed


class NotificationLedger(Protocol):
    """Storage of the notification path: the audit log and the payment under its row lock."""

    async def payment(self, order_id: str) -> PaymentState | None: ...
    async def record(self, received: Received, verdict: str, detail: str | None) -> None: ...
    async def count_dropped(self, verdict: str) -> None: ...
    async def refuse(self, received: Received, verdict: str, detail: str) -> None: ...
    async def apply(
        self, received: Received, body: dict[str, Any], reason: str | None
    ) -> Decision: ...
    async def record_agreement(
        self, received: Received, detail: str, state: PaymentState
    ) -> Decision | None:
        """If the notification claims exactly `state` (what was read) and the payment still
        holds it, audit it as a duplicate, atomically, and return that decision; else write
        nothing (None)."""


class StatusApi(Protocol):
    """Midtrans' `GET /v2/{order_id}/status`: its answer, None if unknown; else raises
    StatusApiUnavailable."""

    async def status(self, order_id: str) -> dict[str, Any] | None: ...


class AuditBudget(Protocol):
    async def admit(self) -> bool: ...


@dataclass(frozen=True)
class NotificationDeps:
    ledger: NotificationLedger
    status_api: StatusApi
    invalid_bodies: AuditBudget
    signing_key: str
    confirm_with_status_api: bool


@dataclass(frozen=True)
class NotificationOutcome:
    order_id: str
    verdict: str
    status: PaymentStatus


async def receive_notification(
    deps: NotificationDeps, raw: bytes, *, remote_addr: str | None
) -> NotificationOutcome:
    """Every body is audited with its verdict; only a verified, consistent one is applied."""
    received = Received(raw, remote_addr)
    try:
        notification = parse_notification(raw)
    except MalformedNotification as exc:
        await _audit_invalid(deps, received, "malformed", str(exc))
        raise
    try:
        verify_signature(notification, deps.signing_key)
    except InvalidSignature:
        forged = Received(raw, remote_addr, notification, signature_valid=False)
        await _audit_invalid(deps, forged, "invalid_signature", None)
        logger.warning(
            "notification with an invalid signature refused",
            extra=log_fields(order_id=notification.order_id[:100], remote_addr=remote_addr),
        )
        raise
    received = Received(raw, remote_addr, notification, signature_valid=True)
    payment = await deps.ledger.payment(notification.order_id)
    if payment is None:
        await deps.ledger.record(received, "unknown_order", None)
        raise PaymentNotFound(f"No payment for order {notification.order_id}.")
    try:
        check_consistency(notification, amount=payment.amount, currency=payment.currency)
    except InconsistentNotification as exc:
        verdict = "amount_mismatch" if isinstance(exc, AmountTampered) else "inconsistent"
        await deps.ledger.refuse(received, verdict, str(exc))
        logger.error(
            "inconsistent notification refused",
            extra=log_fields(order_id=notification.order_id, verdict=verdict, detail=str(exc)),
        )
        raise
    body, reason = notification.body, None
    if deps.confirm_with_status_api:
        if _claims_the_state_of(payment, notification):
            agreed = await deps.ledger.record_agreement(received, AGREES, payment)
            if agreed is not None:
                verdict = str(agreed.verdict)
                return NotificationOutcome(notification.order_id, verdict, agreed.status)
        body, reason = await _confirm_with_status_api(deps, received, notification)
    # A change to the payment also retires Midtrans' cached status answer: it is kept under the
    # payment's version (StatusAnswers), so no one need forget it here.
    decision = await deps.ledger.apply(received, body, reason)
    return NotificationOutcome(notification.order_id, str(decision.verdict), decision.status)


def _claims_the_state_of(payment: PaymentState, notification: Notification) -> bool:
    """Applied, the notification would be a duplicate: it says what the payment already is."""
    return decide(payment, observation_from(notification.body)).verdict is Verdict.DUPLICATE


async def _confirm_with_status_api(
    deps: NotificationDeps, received: Received, notification: Notification
) -> tuple[dict[str, Any], str]:
    """Midtrans' own answer about the order: what gets applied instead of the notification."""
    try:
        answer = await deps.status_api.status(notification.order_id)
    except StatusApiUnavailable as exc:
        # 503 makes Midtrans retry; the reconciler also catches up later.
        await deps.ledger.record(received, "deferred", str(exc))
        raise
    if answer is None:
        detail = "Midtrans' status API does not know this transaction."
        await deps.ledger.record(received, "unconfirmed", detail)
        raise NotificationUnconfirmed(detail)
    claimed, confirmed = notification.transaction_status, answer.get("transaction_status")
    if claimed != confirmed:
        logger.warning(
            "notification contradicted by the status API; applying Midtrans' answer",
            extra=log_fields(order_id=notification.order_id, claimed=claimed, confirmed=confirmed),
        )
        return answer, f"{CONFIRMED}: notification said {claimed[:30]}, Midtrans {confirmed}"
    return answer, CONFIRMED


async def _audit_invalid(
    deps: NotificationDeps, received: Received, verdict: str, detail: str | None
) -> None:
    """Bodies anyone can send: stored up to the minute's budget, then only counted."""
    if await deps.invalid_bodies.admit():
        await deps.ledger.record(received, verdict, detail)
    else:
        await deps.ledger.count_dropped(verdict)


__all__ = [
    "AmountTampered",
    "InconsistentNotification",
    "InvalidSignature",
    "MalformedNotification",
    "NotificationDeps",
    "NotificationOutcome",
    "NotificationUnconfirmed",
    "receive_notification",
]
