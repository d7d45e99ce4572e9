"""The notification path's ledger on the payment unit of work: the audit log and the payment
under its lock.

Implements `notifications.NotificationLedger` over `ports.PaymentWork`; `apply` decides the
notification once, records that verdict, and hands the same decision to the one path every
gateway answer takes (`gateway_sync.apply_observation`), in the transaction that records the
notification, holding the payment's row lock.
"""

from payment_service.domain.gateway import observation_from
from payment_service.domain.model import Decision, PaymentState, Verdict, decide
from payment_service.service_layer.gateway_sync import apply_observation
from payment_service.service_layer.notifications import Received
from payment_service.service_layer.ports import PaymentWork, PaymentWorks


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

    async def apply(
        self, received: Received, body: dict[str, object], reason: str | None
    ) -> Decision:
        # `reason` (how it was confirmed) stays in the notification's audit row: the events
        # carry Midtrans' own reason (gateway_reason), not ours.
        decision = await self._decide_and_apply(received, body, reason, gateway_body=body)
        assert decision is not None
        return decision

    async def record_agreement(self, received: Received, detail: str) -> Decision | None:
        notification = received.notification
        assert notification is not None
        # No gateway body in the transition: nothing here came from Midtrans' status API.
        return await self._decide_and_apply(
            received, notification.body, detail, gateway_body=None, only=Verdict.DUPLICATE
        )

    async def _decide_and_apply(
        self,
        received: Received,
        body: dict[str, object],
        detail: str | None,
        *,
        gateway_body: dict[str, object] | None,
        only: Verdict | None = None,
    ) -> Decision | None:
        """Decide `body` on the locked payment, audit the notification with that verdict and
        apply it; with `only`, a verdict other than that one writes nothing (None)."""
        notification = received.notification
        assert notification is not None
        async with self._works() as work, work.transaction():
            payment = await work.payment(notification.order_id, lock=True)
            assert payment is not None
            obs = observation_from(body)
            decision = decide(payment.state, obs)
            if only is not None and decision.verdict is not only:
                return None  # it moved since it was read: the caller asks Midtrans
            nid = await _record(work, received, str(decision.verdict), detail)
            return await apply_observation(
                work,
                payment,
                obs,
                body=gateway_body,
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
