"""Sending due deliveries, after commit, each channel on its own, with retries and a record.

The delivery job claims due rows (a lease, not a held transaction), sends each in its own task
so a slow or failing channel never holds back another, and records the outcome: sent; a
temporary failure retried with exponential backoff until `max_attempts`; a permanent failure
recorded at once. A push token FCM calls unregistered is dropped.

The buyer's e-mail of a paid order carries its receipt, fetched from ticket-service here, at send
time (never in the consumer's transaction). When ticket-service cannot answer, the e-mail waits
like any temporary failure; only the last allowed attempt goes without the receipt, because the
e-tickets matter more and the buyer can always download the receipt (`GET /orders/{id}/receipt`).
"""

import asyncio
import logging
from dataclasses import dataclass

from servicekit.logs import log_fields
from ticketing_contracts import PAYLOAD_MODELS, EventPayload

from notification_gateway.domain.model import (
    Channel,
    Outcome,
    OutgoingEmail,
    PermanentFailure,
    Sent,
    TemporaryFailure,
    gives_up,
    retry_delay,
)
from notification_gateway.domain.notifications import Delivery
from notification_gateway.domain.receipts import Receipt, ReceiptUnavailable
from notification_gateway.service_layer.compose import compose, receipt_wanted
from notification_gateway.service_layer.order_messages import with_receipt
from notification_gateway.service_layer.ports import (
    DeliveryLog,
    DeliveryLogs,
    EmailRenderer,
    Mailer,
    PushSender,
    Receipts,
    StreamWriter,
)

logger = logging.getLogger(__name__)


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
        delivery_logs: DeliveryLogs,
        *,
        mailer: Mailer,
        render_email: EmailRenderer,
        push: PushSender | None,
        stream: StreamWriter,
        receipts: Receipts,
        policy: DeliveryPolicy,
    ) -> None:
        self._delivery_logs = delivery_logs
        self._mailer = mailer
        self._render_email = render_email
        self._receipts = receipts
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
        async with self._delivery_logs() as log:
            due = await log.claim_due_deliveries(
                limit=free, lease_seconds=self._policy.lease_seconds
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

    async def _deliver(self, delivery: Delivery) -> None:
        outcome = await self._attempt(delivery)
        fields = log_fields(
            delivery_id=delivery.id,
            event_id=str(delivery.notification.event_id),
            channel=delivery.channel.value,
            attempt=delivery.attempts,
        )
        try:
            async with self._delivery_logs() as log:
                await self._record(log, delivery, outcome, fields)
        except Exception:
            logger.exception("could not record a delivery outcome; it is retried", extra=fields)

    async def _attempt(self, delivery: Delivery) -> Outcome:
        try:
            match delivery.channel:
                case Channel.EMAIL:
                    return await self._send_email(delivery)
                case Channel.PUSH:
                    return await self._send_push(delivery)
                case Channel.STREAM:
                    return await self._append_to_stream(delivery)
        except Exception as exc:
            logger.exception("delivery attempt raised", extra=log_fields(delivery_id=delivery.id))
            return TemporaryFailure(f"{type(exc).__name__}: {exc}")

    async def _send_email(self, delivery: Delivery) -> Outcome:
        notification = delivery.notification
        model = PAYLOAD_MODELS[(notification.event_type, notification.event_version)]
        payload = model.model_validate(delivery.payload)
        try:
            receipt = await self._receipt(payload, delivery)
        except ReceiptUnavailable as exc:
            if not gives_up(delivery.attempts, self._policy.max_attempts):
                return TemporaryFailure(f"receipt: {exc}")
            logger.error(
                "sending the e-mail without its receipt after %d attempts: %s",
                delivery.attempts,
                exc,
                extra=log_fields(delivery_id=delivery.id),
            )
            receipt = None
        # The QR codes and the MIME take about 1 ms a ticket, on the loop: a thread would not
        # run them beside it (the GIL) and its hop alone costs 0.1 ms of CPU.
        email = self._email(delivery, payload, receipt)
        return await self._mailer.send(email)

    async def _receipt(self, payload: EventPayload, delivery: Delivery) -> Receipt | None:
        notification = delivery.notification
        order_id = receipt_wanted(payload, notification.user_id)
        if order_id is None:
            return None
        return await self._receipts.receipt_of(order_id, notification.language)

    def _email(
        self, delivery: Delivery, payload: EventPayload, receipt: Receipt | None
    ) -> OutgoingEmail:
        notification = delivery.notification
        message = compose(
            payload, notification.audience, notification.language, recipient_id=notification.user_id
        )
        if receipt is not None:
            message = with_receipt(message, receipt, notification.language)
        return self._render_email(
            message,
            language=notification.language,
            sender=self._policy.mail_from,
            recipient=delivery.target,
            message_key=f"{notification.event_id}.{notification.id}",
        )

    async def _send_push(self, delivery: Delivery) -> Outcome:
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

    async def _append_to_stream(self, delivery: Delivery) -> Outcome:
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
        log: DeliveryLog,
        delivery: Delivery,
        outcome: Outcome,
        fields: dict[str, object],
    ) -> None:
        match outcome:
            case Sent():
                await log.mark_sent(delivery.id)
                logger.info("delivered", extra=fields)
            case PermanentFailure(error=error, drop_device=drop):
                await log.mark_failed(delivery.id, error=error)
                if drop:
                    await log.drop_device(delivery.target)
                logger.warning(
                    "delivery failed for good%s: %s",
                    "; device token dropped" if drop else "",
                    error,
                    extra=fields,
                )
            case TemporaryFailure(error=error) if gives_up(
                delivery.attempts, self._policy.max_attempts
            ):
                await log.mark_failed(
                    delivery.id, error=f"gave up after {delivery.attempts} attempts: {error}"
                )
                logger.error("delivery gave up: %s", error, extra=fields)
            case TemporaryFailure(error=error):
                delay = retry_delay(
                    delivery.attempts,
                    base_seconds=self._policy.retry_base_seconds,
                    max_seconds=self._policy.retry_max_seconds,
                )
                await log.schedule_retry(delivery.id, error=error, delay_seconds=delay)
                logger.warning("delivery failed; retry in %.1fs: %s", delay, error, extra=fields)
