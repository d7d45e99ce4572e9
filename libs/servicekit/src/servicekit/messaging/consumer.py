"""The inbox consumer: one transaction records the event id and runs the handler, then we ack.

A redelivered event finds its id in the inbox and has no second effect. A handler that fails is
retried (redelivered) with a short backoff; after `max_attempts` the message goes to the
consumer's dead-letter queue with its error in the headers, never round an endless loop. A
message that is not a readable envelope goes there at once.

With a `batch_size` above 1, the messages that are waiting when a transaction starts (at most
that many) share it: one inbox insert, one commit, then each is acked. A batch whose handler or
commit fails is rolled back whole and its messages are applied again one by one, so a failing
message is retried (or dead-lettered) alone and the others apply. Only for handlers that lock
no row other handlers of the queue lock too: a batch holds every lock until its commit.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aio_pika
import asyncpg
from aio_pika.abc import (
    AbstractChannel,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from pydantic import ValidationError
from ticketing_contracts import DEAD_LETTER_EXCHANGE, EventEnvelope, QueueBinding

from servicekit.correlation import set_correlation_id
from servicekit.logs import log_fields
from servicekit.messaging.topology import queue_arguments
from servicekit.metrics import CONSUMER_HANDLING, CONSUMER_IN_PROGRESS, CONSUMER_MESSAGES

logger = logging.getLogger(__name__)

EventHandler = Callable[[asyncpg.Connection, EventEnvelope], Awaitable[None]]
"""Runs inside the inbox transaction; write state and outbox rows on the given connection."""


@dataclass(frozen=True)
class Consumer:
    """A service's subscription: its inbox name, its queue and a handler per event type."""

    name: str
    binding: QueueBinding
    handlers: Mapping[str, EventHandler]
    batch_size: int = 1
    """How many waiting messages may share one transaction (1: each has its own)."""


@dataclass
class _Waiting:
    envelope: EventEnvelope
    handler: EventHandler
    applied: asyncio.Future[bool]


class InboxConsumer:
    def __init__(
        self,
        consumer: Consumer,
        pool: asyncpg.Pool,
        connection: AbstractRobustConnection,
        *,
        prefetch: int = 16,
        max_attempts: int = 5,
        retry_base_seconds: float = 0.2,
    ) -> None:
        self.consumer = consumer
        self._pool = pool
        self._connection = connection
        self._prefetch = prefetch
        self._max_attempts = max_attempts
        self._retry_base = retry_base_seconds
        self._channel: AbstractChannel | None = None
        self._queue: AbstractQueue | None = None
        self._tag: str | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._waiting: list[_Waiting] = []
        self._batching = False

    async def start(self) -> None:
        self._channel = await self._connection.channel(publisher_confirms=True)
        await self._channel.set_qos(prefetch_count=self._prefetch)
        # Declared (not just looked up) so the robust channel re-declares and re-consumes it
        # after a reconnect.
        binding = self.consumer.binding
        self._queue = await self._channel.declare_queue(
            binding.queue, durable=True, arguments=queue_arguments(binding)
        )
        self._tag = await self._queue.consume(self._on_message, no_ack=False)

    async def stop_consuming(self, wait_seconds: float = 10.0) -> None:
        """Take no new message (basic.cancel) and wait for those being handled to finish.

        Messages the broker had sent ahead (prefetch) but no handler had started are nacked
        back by the channel's close in `stop`, for another replica to take.
        """
        if self._queue is not None and self._tag is not None:
            tag, self._tag = self._tag, None
            try:
                await self._queue.cancel(tag)
            except Exception:
                logger.warning("could not cancel consumer %s", self.consumer.name, exc_info=True)
        deadline = time.monotonic() + wait_seconds
        # A delivery's task may start a moment after the cancel: let it register first.
        await asyncio.sleep(0.05)
        while self._in_flight and time.monotonic() < deadline:
            await asyncio.wait(set(self._in_flight), timeout=deadline - time.monotonic())
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        await self.stop_consuming()
        if self._channel is not None and not self._channel.is_closed:
            await self._channel.close()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        queue = self.consumer.binding.queue
        started = time.perf_counter()
        in_progress = CONSUMER_IN_PROGRESS.labels(queue)
        in_progress.inc()
        try:
            outcome = await self.handle(message)
        finally:
            in_progress.dec()
            if task is not None:
                self._in_flight.discard(task)
        event_type = message.routing_key or "unknown"
        CONSUMER_MESSAGES.labels(queue, event_type, outcome).inc()
        CONSUMER_HANDLING.labels(queue, event_type).observe(time.perf_counter() - started)

    async def handle(self, message: AbstractIncomingMessage) -> str:
        """Handle one message; return its outcome (the `outcome` label of the metrics)."""
        try:
            envelope = EventEnvelope.model_validate_json(message.body)
        except ValidationError as exc:
            return await self._dead_letter(message, f"unreadable envelope: {exc}")
        set_correlation_id(envelope.correlation_id)
        handler = self.consumer.handlers.get(envelope.event_type)
        if handler is None:
            await message.ack()
            return "ignored"
        try:
            if self.consumer.batch_size > 1:
                first_time = await self._apply_in_a_batch(envelope, handler)
            else:
                first_time = await self._apply(envelope, handler)
        except Exception as exc:
            return await self._after_failure(message, envelope, exc)
        await message.ack()
        if not first_time:
            logger.info(
                "duplicate event dropped by the inbox",
                extra=log_fields(event_id=str(envelope.event_id), event_type=envelope.event_type),
            )
            return "duplicate"
        return "applied"

    async def _apply(self, envelope: EventEnvelope, handler: EventHandler) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            recorded = await conn.fetchval(
                """INSERT INTO inbox (consumer, event_id, event_type) VALUES ($1, $2, $3)
                   ON CONFLICT DO NOTHING RETURNING true""",
                self.consumer.name,
                envelope.event_id,
                envelope.event_type,
            )
            if not recorded:
                return False
            await handler(conn, envelope)
            return True

    async def _apply_in_a_batch(self, envelope: EventEnvelope, handler: EventHandler) -> bool:
        """Wait for this message's batch; the first waiting message runs the batches."""
        waiting = _Waiting(envelope, handler, asyncio.get_running_loop().create_future())
        self._waiting.append(waiting)
        if not self._batching:
            self._batching = True
            batch: list[_Waiting] = []
            try:
                while self._waiting:
                    size = self.consumer.batch_size
                    batch, self._waiting = self._waiting[:size], self._waiting[size:]
                    await self._run_batch(batch)
            finally:
                self._batching = False
                # Cancelled while leading (a stop): the others are told, and are redelivered.
                for item in [*batch, *self._waiting]:
                    if not item.applied.done():
                        item.applied.set_exception(RuntimeError("the batch was interrupted"))
                self._waiting = []
                set_correlation_id(envelope.correlation_id)
        return await waiting.applied

    async def _run_batch(self, batch: list[_Waiting]) -> None:
        try:
            applied = await self._apply_batch(batch)
        except Exception:
            if len(batch) > 1:
                logger.info("a batch of %d failed; applying its messages one by one", len(batch))
            for item in batch:
                try:
                    first_time = await self._apply(item.envelope, item.handler)
                except Exception as exc:
                    item.applied.set_exception(exc)
                else:
                    item.applied.set_result(first_time)
            return
        for item, first_time in zip(batch, applied, strict=True):
            item.applied.set_result(first_time)

    async def _apply_batch(self, batch: list[_Waiting]) -> list[bool]:
        """One transaction for the batch; whether each message was new (a duplicate: False)."""
        async with self._pool.acquire() as conn, conn.transaction():
            recorded = await conn.fetch(
                """INSERT INTO inbox (consumer, event_id, event_type)
                   SELECT $1, * FROM unnest($2::uuid[], $3::text[])
                   ON CONFLICT DO NOTHING RETURNING event_id""",
                self.consumer.name,
                [item.envelope.event_id for item in batch],
                [item.envelope.event_type for item in batch],
            )
            new = {row["event_id"] for row in recorded}
            applied = []
            for item in batch:
                first_time = item.envelope.event_id in new
                new.discard(item.envelope.event_id)  # the same event twice in one batch
                if first_time:
                    set_correlation_id(item.envelope.correlation_id)
                    await item.handler(conn, item.envelope)
                applied.append(first_time)
            return applied

    async def _after_failure(
        self, message: AbstractIncomingMessage, envelope: EventEnvelope, exc: Exception
    ) -> str:
        attempt = _delivery_count(message) + 1
        fields = log_fields(
            event_id=str(envelope.event_id), event_type=envelope.event_type, attempt=attempt
        )
        if attempt >= self._max_attempts:
            logger.error(
                "handler failed for the last time; dead-lettering", exc_info=exc, extra=fields
            )
            return await self._dead_letter(message, f"{type(exc).__name__}: {exc}")
        logger.warning("handler failed; will retry", exc_info=exc, extra=fields)
        await asyncio.sleep(min(self._retry_base * 2 ** (attempt - 1), 5.0))
        await message.nack(requeue=True)
        return "retried"

    async def _dead_letter(self, message: AbstractIncomingMessage, error: str) -> str:
        assert self._channel is not None
        headers = dict(message.headers or {})
        headers.update(
            {
                "x-error": error[:2000],
                "x-failed-consumer": self.consumer.name,
                "x-failed-at": datetime.now(UTC).isoformat(),
                "x-original-routing-key": message.routing_key or "",
            }
        )
        dead = copy_with_headers(message, headers)
        exchange = await self._channel.get_exchange(DEAD_LETTER_EXCHANGE, ensure=False)
        try:
            await exchange.publish(dead, routing_key=self.consumer.binding.queue, mandatory=True)
        except Exception:
            logger.exception("could not dead-letter; leaving the message on its queue")
            await message.nack(requeue=True)
            return "retried"
        await message.ack()
        return "dead_lettered"


def copy_with_headers(
    message: AbstractIncomingMessage, headers: Mapping[str, Any]
) -> aio_pika.Message:
    """A persistent copy of a received message, with `headers` instead of its own."""
    return aio_pika.Message(
        body=message.body,
        headers=dict(headers),
        message_id=message.message_id,
        type=message.type,
        correlation_id=message.correlation_id,
        content_type=message.content_type,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )


def _delivery_count(message: AbstractIncomingMessage) -> int:
    value = (message.headers or {}).get("x-delivery-count", 0)
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else 0
