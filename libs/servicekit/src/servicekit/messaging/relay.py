"""The outbox relay: claims unsent rows, publishes them with confirms, marks them sent.

Rows are claimed with FOR UPDATE SKIP LOCKED inside one transaction that lasts until they are
marked, so several relays share the work without publishing a row twice between them. A relay
that dies after publishing but before marking leaves the rows unsent: they are published again,
and the consumers' inbox drops the duplicate. A message the broker returns as unroutable or
refuses (nack) is an error recorded on its row and retried with backoff; it is never dropped.

When the broker connection drops in the middle of a batch, the rows the broker had confirmed are
still marked sent (the pass commits them, then reports the failure), and the others stay unsent
and are published again once the robust connection is back. A row whose message reached the
broker but whose confirm was lost with the connection is published again too: at least once, and
the inbox makes it once in effect.

The relay sleeps until a commit that wrote events NOTIFYs the outbox channel (see
`servicekit.messaging.outbox`), so an event leaves within milliseconds; `poll_seconds` is only
the fallback for a lost listener or a row due for retry. With `leadership` only the leading
worker of the service relays (the others stand by and take over when it stops).
"""

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

import aio_pika
import asyncpg
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractRobustConnection
from aio_pika.exceptions import DeliveryError, PublishError
from ticketing_contracts import EXCHANGE

from servicekit.jsoncodec import dumps
from servicekit.leader import Leadership
from servicekit.listen import Listener
from servicekit.logs import log_fields
from servicekit.messaging.outbox import OUTBOX_CHANNEL
from servicekit.metrics import OUTBOX_PUBLISHED, OUTBOX_REFUSED, OUTBOX_RELAY_FAILURES

logger = logging.getLogger(__name__)

_CLAIM = """
    SELECT event_id, event_type, body FROM outbox
    WHERE sent_at IS NULL AND next_attempt_at <= now()
    ORDER BY created_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
"""
_MARK_SENT = "UPDATE outbox SET sent_at = now(), attempts = attempts + 1 WHERE event_id = ANY($1)"
_MARK_REFUSED = """
    UPDATE outbox SET attempts = attempts + 1, last_error = $2,
        next_attempt_at = now() + make_interval(secs => least(60, 0.5 * 2 ^ attempts))
    WHERE event_id = $1
"""


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        connection: AbstractRobustConnection,
        *,
        batch_size: int = 100,
        poll_seconds: float = 0.2,
        listen_dsn: str | None = None,
        leadership: Leadership | None = None,
    ) -> None:
        self._pool = pool
        self._connection = connection
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._committed = asyncio.Event()
        self._listener = (
            Listener(listen_dsn, channel=OUTBOX_CHANNEL, on_notify=self._on_commit)
            if listen_dsn
            else None
        )
        self._leadership = leadership

    def _on_commit(self, _payload: str) -> None:
        self._committed.set()

    async def run(self) -> None:
        """Relay until cancelled; broker or database trouble pauses it, never stops it."""
        try:
            await self._relay_forever()
        finally:
            if self._listener is not None:
                await self._listener.aclose()

    async def _relay_forever(self) -> None:
        while True:
            if self._leadership is not None and not await self._leadership.is_leader():
                await asyncio.sleep(max(self._poll_seconds, 1.0))
                continue
            if self._listener is not None:
                await self._listener.ensure_listening()
            self._committed.clear()
            try:
                published = await self.relay_once()
            except asyncio.CancelledError:
                if _being_cancelled():
                    raise
                # A publish cancelled by its closing channel, not a stop: a pass that failed.
                logger.warning("outbox relay pass cancelled under it; retrying", exc_info=True)
                await self._drop_channel()
                await asyncio.sleep(1.0)
                continue
            except Exception:
                logger.exception("outbox relay pass failed; retrying")
                OUTBOX_RELAY_FAILURES.inc()
                await self._drop_channel()
                await asyncio.sleep(1.0)
                continue
            if published < self._batch_size:
                await self._until_committed()

    async def _until_committed(self) -> None:
        """Until a NOTIFY (or the poll interval; longer while the listener stands guard)."""
        listening = self._listener is not None and self._listener.listening
        timeout = max(self._poll_seconds, 1.0) if listening else self._poll_seconds
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._committed.wait(), timeout)

    async def relay_once(self) -> int:
        """One pass: publish up to a batch of due rows. Returns how many were published.

        Raises the connection or channel error of a pass that could not publish every row, after
        committing the rows that were confirmed.
        """
        exchange = await self._events_exchange()
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_CLAIM, self._batch_size)
            if not rows:
                return 0
            results = await asyncio.gather(
                *(self._publish(exchange, row) for row in rows), return_exceptions=True
            )
            sent, refused, broken = _sort_results(rows, results)
            for event_id, error in refused:
                await conn.execute(_MARK_REFUSED, event_id, error)
            await self._mark_sent(conn, sent)
        OUTBOX_PUBLISHED.inc(len(sent))
        OUTBOX_REFUSED.inc(len(refused))
        if broken is not None:
            logger.warning(
                "outbox relay lost the broker mid-batch; confirmed rows marked, the rest retried",
                extra=log_fields(sent=len(sent), unsent=len(rows) - len(sent) - len(refused)),
            )
            raise broken
        return len(sent)

    async def _mark_sent(self, conn: asyncpg.Connection, event_ids: Sequence[Any]) -> None:
        await conn.execute(_MARK_SENT, list(event_ids))

    async def _events_exchange(self) -> AbstractExchange:
        if self._channel is None or self._channel.is_closed or self._exchange is None:
            self._channel = await self._connection.channel(
                publisher_confirms=True, on_return_raises=True
            )
            self._exchange = await self._channel.get_exchange(EXCHANGE, ensure=False)
        return self._exchange

    async def _drop_channel(self) -> None:
        channel, self._channel, self._exchange = self._channel, None, None
        if channel is not None and not channel.is_closed:
            try:
                await channel.close()
            except Exception:
                logger.debug("closing a broken relay channel failed", exc_info=True)

    async def _publish(self, exchange: AbstractExchange, row: asyncpg.Record) -> None:
        body = row["body"]
        message = aio_pika.Message(
            body=dumps(body),
            message_id=str(row["event_id"]),
            type=row["event_type"],
            correlation_id=body.get("correlation_id"),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        await exchange.publish(message, routing_key=row["event_type"], mandatory=True, timeout=10)


def _being_cancelled() -> bool:
    """True when this task itself is asked to stop (task.cancel()), not a stray CancelledError."""
    task = asyncio.current_task()
    return task is None or task.cancelling() > 0


def _sort_results(
    rows: Sequence[asyncpg.Record], results: Sequence[object]
) -> tuple[list[Any], list[tuple[Any, str]], BaseException | None]:
    """Split into published ids, (id, error) refused by the broker, and the first other error.

    Another error (connection or channel trouble) leaves its row unsent for the next pass.
    """
    sent: list[Any] = []
    refused: list[tuple[Any, str]] = []
    broken: BaseException | None = None
    for row, result in zip(rows, results, strict=True):
        if isinstance(result, PublishError | DeliveryError):
            reason = f"broker refused {row['event_type']}: {result!r}"
            logger.error(
                "outbox publish refused",
                extra=log_fields(event_id=str(row["event_id"]), error=reason),
            )
            refused.append((row["event_id"], reason))
        elif isinstance(result, BaseException):
            broken = broken or result
        else:
            sent.append(row["event_id"])
    return sent, refused, broken
