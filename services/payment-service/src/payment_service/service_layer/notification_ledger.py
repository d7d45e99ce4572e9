"""The notification path's ledger on the payment unit of work: the audit log and the payment
under its lock.

Implements `notifications.NotificationLedger` over `ports.PaymentWork`; `apply` decides the
notification once, records that verdict, and hands the same decision to the one path every
gateway answer takes (`gateway_sync.apply_observation`), in the transaction that records the
notification, holding the payment's row lock. `record_agreement` audits a notification that
claims the state the payment holds in one statement, with no transaction: it changes nothing.
"""

import logging

from servicekit.logs import log_fields

from payment_service.domain.gateway import observation_from
from payment_service.domain.model import Decision, PaymentState, Verdict, decide
from payment_service.service_layer.gateway_sync import apply_observation
from payment_service.service_layer.notifications import Received
from payment_service.service_layer.ports import PaymentWork, PaymentWorks

logger = logging.getLogger(__name__)


class PaymentNotificationLedger:
    def __init__(self, works: PaymentWorks) -> None:
        self._works = works

    async def payment(self, order_id: str) -> PaymentState | None:
        async with self._works() as work:
            payment = await work.payment(order_id)
        return None if payment is None else payment.state

    async def record(self, received: Received, verdict: str, detail: str | None) -> None:
        async with self._works() as work:
            await _record(work, received, verdict, detail)

    async def count_dropped(self, verdict: str) -> None:
        async with self._works() as work:
            await work.count_dropped_notification(verdict)

    async def refuse(self, received: Received, verdict: str, detail: str) -> None:
        """A signed but inconsistent notification: audited, the payment flagged, not applied."""
        notification = received.notification
        assert notification is not None
        async with self._works() as work, work.transaction():
            payment = await work.payment(notification.order_id, lock=True)
            assert payment is not None  # payments are never deleted
            nid = await _record(work, received, verdict, detail)
            await work.flag(payment.order_id, f"notification {nid}: {detail}")
            await work.add_transition(
                order_id=payment.order_id,
                from_status=str(payment.status),
                to_status=str(payment.status),
                source="notification",
                verdict="refused",
                reason=detail,
                gateway_body=notification.body,
                notification_id=nid,
            )

    async def record_agreement(
        self, received: Received, detail: str, state: PaymentState
    ) -> Decision | None:
        notification = received.notification
        assert notification is not None
        assert received.signature_valid  # only a signed notification reaches an agreement
        decision = decide(state, observation_from(notification.body))
        if decision.verdict is not Verdict.DUPLICATE:
            return None
        async with self._works() as work:
            nid = await work.record_agreement(
                state,
                order_id=notification.order_id,
                raw_body=received.raw,
                detail=detail,
                reason=decision.reason,
                transaction_status=notification.transaction_status,
                remote_addr=received.remote_addr,
            )
        if nid is None:
            return None  # it moved since it was read: the caller asks Midtrans
        logger.info(
            "payment %s: %s (%s)",
            notification.order_id,
            state.status,
            decision.verdict,
            extra=log_fields(order_id=notification.order_id, source="notification"),
        )
        return decision

    async def apply(
        self, received: Received, body: dict[str, object], reason: str | None
    ) -> Decision:
        """Decide `body` on the locked payment, audit the notification with that verdict and
        apply it."""
        # `reason` (how it was confirmed) stays in the notification's audit row: the events
        # carry Midtrans' own reason (gateway_reason), not ours.
        notification = received.notification
        assert notification is not None
        async with self._works() as work, work.transaction():
            payment = await work.payment(notification.order_id, lock=True)
            assert payment is not None
            obs = observation_from(body)
            decision = decide(payment.state, obs)
            nid = await _record(work, received, str(decision.verdict), reason)
            return await apply_observation(
                work,
                payment,
                obs,
                body=body,
                source="notification",
                notification_id=nid,
                decision=decision,
            )


async def _record(work: PaymentWork, received: Received, verdict: str, detail: str | None) -> int:
    notification = received.notification
    return await work.record_notification(
        raw_body=received.raw,
        verdict=verdict,
        detail=detail,
        order_id=notification.order_id if notification else None,
        transaction_status=notification.transaction_status if notification else None,
        signature_valid=received.signature_valid,
        remote_addr=received.remote_addr,
    )
