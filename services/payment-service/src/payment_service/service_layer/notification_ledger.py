"""The notification path's ledger on PostgreSQL: the audit log and the payment under its lock.

Implements `notifications.NotificationLedger` over the repository; `apply` runs the one path
every gateway answer takes (`gateway_sync.apply_observation`) in the transaction that records
the notification, holding the payment's row lock.
"""

import asyncpg
from servicekit.messaging import Outbox

from payment_service.adapters import repository as repo
from payment_service.domain.gateway import observation_from
from payment_service.domain.model import Decision, PaymentState, decide
from payment_service.service_layer.gateway_sync import apply_observation
from payment_service.service_layer.notifications import Received


class PostgresNotificationLedger:
    def __init__(self, pool: asyncpg.Pool, outbox: Outbox) -> None:
        self._pool = pool
        self._outbox = outbox

    async def payment(self, order_id: str) -> PaymentState | None:
        async with self._pool.acquire() as conn:
            payment = await repo.get(conn, order_id)
        return None if payment is None else payment.state

    async def record(self, received: Received, verdict: str, detail: str | None) -> None:
        async with self._pool.acquire() as conn:
            await _record(conn, received, verdict, detail)

    async def count_dropped(self, verdict: str) -> None:
        async with self._pool.acquire() as conn:
            await repo.count_dropped_notification(conn, verdict)

    async def refuse(self, received: Received, verdict: str, detail: str) -> None:
        """A signed but inconsistent notification: audited, the payment flagged, not applied."""
        notification = received.notification
        assert notification is not None
        async with self._pool.acquire() as conn, conn.transaction():
            payment = await repo.get(conn, notification.order_id, lock=True)
            assert payment is not None  # payments are never deleted
            nid = await _record(conn, received, verdict, detail)
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

    async def apply(
        self, received: Received, body: dict[str, object], reason: str | None
    ) -> Decision:
        notification = received.notification
        assert notification is not None
        async with self._pool.acquire() as conn, conn.transaction():
            payment = await repo.get(conn, notification.order_id, lock=True)
            assert payment is not None
            obs = observation_from(body)
            verdict = decide(payment.state, obs).verdict
            nid = await _record(conn, received, str(verdict), reason)
            # `reason` (how it was confirmed) stays in the notification's audit row: the events
            # carry Midtrans' own reason (gateway_reason), not ours.
            return await apply_observation(
                conn,
                self._outbox,
                payment,
                obs,
                body=body,
                source="notification",
                notification_id=nid,
            )


async def _record(
    conn: asyncpg.Connection, received: Received, verdict: str, detail: str | None
) -> int:
    notification = received.notification
    return await repo.record_notification(
        conn,
        raw_body=received.raw,
        verdict=verdict,
        detail=detail,
        order_id=notification.order_id if notification else None,
        transaction_status=notification.transaction_status if notification else None,
        signature_valid=received.signature_valid,
        remote_addr=received.remote_addr,
    )
