"""Sending due deliveries, after commit, each channel on its own, with retries and a record.

The delivery job claims due rows (a lease, not a held transaction), sends each in its own task
so a slow or failing channel never holds back another, and records the outcome: sent; a
temporary failure retried with exponential backoff until `max_attempts`; a permanent failure
recorded at once. A push token FCM calls unregistered is dropped.
"""

import asyncio
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

import asyncpg
from servicekit.logs import log_fields
from ticketing_contracts import PAYLOAD_MODELS

from notification_gateway.adapters import repository
from notification_gateway.adapters.email import render_email
from notification_gateway.adapters.repository import DueDelivery
from notification_gateway.adapters.stream import NotificationStream
from notification_gateway.domain.model import (
    Audience,
    Channel,
    Outcome,
    PermanentFailure,
    Sent,
    TemporaryFailure,
    gives_up,
    retry_delay,
)
from notification_gateway.service_layer.compose import compose

logger = logging.getLogger(__name__)


class Mailer(Protocol):
    async def send(self, email: EmailMessage) -> Outcome: ...


class PushSender(Protocol):
    async def send(self, *, token: str, title: str, body: str, data: dict[str, str]) -> Outcome: ...


@dataclass(frozen=True)
class DeliveryPolicy:
    batch_size: int
    max_attempts: int
    retry_base_seconds: float
    retry_max_seconds: float
    lease_seconds: float
    mail_from: str


class Dispatcher:
    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        mailer: Mailer,
        push: PushSender | None,
        stream: NotificationStream,
        policy: DeliveryPolicy,
    ) -> None:
        self._pool = pool
        self._mailer = mailer
        self._push = push
        self._stream = stream
        self._policy = policy
        self._in_flight: set[asyncio.Task[None]] = set()
        self.wake = asyncio.Event()

    async def deliver_due(self) -> int:
        """Claim as many due deliveries as there are free sending slots; start sending them."""
        free = self._policy.batch_size - len(self._in_flight)
        if free <= 0:
            return 0
        async with self._pool.acquire() as conn:
            due = await repository.claim_due_deliveries(
                conn, limit=free, lease_seconds=self._policy.lease_seconds
            )
        for delivery in due:
            task = asyncio.create_task(self._deliver(delivery))
            self._in_flight.add(task)
            task.add_done_callback(self._finished)
        if len(due) == free:
            self.wake.set()  # there may be more waiting
        return len(due)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self.wake.set()

    async def drain(self, grace_seconds: float) -> None:
        """Let sends under way finish (shutdown); the rest are retried after their lease."""
        if self._in_flight:
            _done, pending = await asyncio.wait(self._in_flight, timeout=grace_seconds)
            for task in pending:
                task.cancel()

    async def _deliver(self, delivery: DueDelivery) -> None:
        outcome = await self._attempt(delivery)
        fields = log_fields(
            delivery_id=delivery.id,
            event_id=str(delivery.notification.event_id),
            channel=delivery.channel.value,
            attempt=delivery.attempts,
        )
        try:
            async with self._pool.acquire() as conn:
                await self._record(conn, delivery, outcome, fields)
        except Exception:
            logger.exception("could not record a delivery outcome; it is retried", extra=fields)

    async def _attempt(self, delivery: DueDelivery) -> Outcome:
        try:
            match delivery.channel:
                case Channel.EMAIL:
                    # Drawing the QR code is CPU work (~15 ms): keep it off the event loop.
                    email = await asyncio.to_thread(self._email, delivery)
                    return await self._mailer.send(email)
                case Channel.PUSH:
                    return await self._send_push(delivery)
                case Channel.STREAM:
                    return await self._append_to_stream(delivery)
        except Exception as exc:
            logger.exception("delivery attempt raised", extra=log_fields(delivery_id=delivery.id))
            return TemporaryFailure(f"{type(exc).__name__}: {exc}")

    def _email(self, delivery: DueDelivery) -> EmailMessage:
        notification = delivery.notification
        model = PAYLOAD_MODELS[(notification.event_type, notification.event_version)]
        message = compose(
            model.model_validate(delivery.payload),
            Audience(delivery.audience),
            notification.language,
        )
        return render_email(
            message,
            language=notification.language,
            sender=self._policy.mail_from,
            recipient=delivery.target,
            message_key=f"{notification.event_id}.{notification.id}",
        )

    async def _send_push(self, delivery: DueDelivery) -> Outcome:
        if self._push is None:
            return PermanentFailure("push is turned off (FCM_ENDPOINT is empty)")
        notification = delivery.notification
        return await self._push.send(
            token=delivery.target,
            title=notification.title,
            body=notification.body,
            data={
                **notification.data,
                "event_type": notification.event_type,
                "notification_id": str(notification.id),
            },
        )

    async def _append_to_stream(self, delivery: DueDelivery) -> Outcome:
        notification = delivery.notification
        entry_id = await self._stream.append(
            user_id=notification.user_id,
            delivery_id=delivery.id,
            event=notification.event_type,
            notification=notification.public(),
        )
        return Sent(entry_id or "appended before")

    async def _record(
        self,
        conn: asyncpg.Connection,
        delivery: DueDelivery,
        outcome: Outcome,
        fields: dict[str, object],
    ) -> None:
        match outcome:
            case Sent():
                await repository.mark_sent(conn, delivery.id)
                logger.info("delivered", extra=fields)
            case PermanentFailure(error=error, drop_device=drop):
                await repository.mark_failed(conn, delivery.id, error)
                if drop:
                    await repository.drop_device(conn, delivery.target)
                logger.warning(
                    "delivery failed for good%s: %s",
                    "; device token dropped" if drop else "",
                    error,
                    extra=fields,
                )
            case TemporaryFailure(error=error) if gives_up(
                delivery.attempts, self._policy.max_attempts
            ):
                await repository.mark_failed(
                    conn, delivery.id, f"gave up after {delivery.attempts} attempts: {error}"
                )
                logger.error("delivery gave up: %s", error, extra=fields)
            case TemporaryFailure(error=error):
                delay = retry_delay(
                    delivery.attempts,
                    base_seconds=self._policy.retry_base_seconds,
                    max_seconds=self._policy.retry_max_seconds,
                )
                await repository.schedule_retry(conn, delivery.id, error, delay)
                logger.warning("delivery failed; retry in %.1fs: %s", delay, error, extra=fields)
