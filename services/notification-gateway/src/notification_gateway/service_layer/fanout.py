"""The live stream's fan-out on one replica: one blocking XREAD for every open SSE connection.

Each open stream subscribes its user here; a single reader (the `stream-fanout` job) waits on
all subscribed users' Redis streams at once and hands each new entry to that user's
subscribers. So a replica holds one Redis connection for the stream however many apps are
waiting, and every replica sees every entry (Redis is the fan-out between replicas).
A subscriber that falls too far behind is cut off (`lagged`); its client reconnects with
Last-Event-ID and catches up from Redis.
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from notification_gateway.domain.stream import StreamEntry
from notification_gateway.service_layer.ports import StreamReader

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class Subscription:
    user_id: str
    entries: asyncio.Queue[StreamEntry] = field(default_factory=lambda: asyncio.Queue(maxsize=500))
    lagged: bool = False


class StreamHub:
    def __init__(self, stream: StreamReader, *, block_ms: int = 2000) -> None:
        # Well under redis-py's default 5 s socket timeout, which a longer BLOCK would trip.
        self._stream = stream
        self._block_ms = block_ms
        self._subscriptions: dict[str, set[Subscription]] = {}
        self._cursors: dict[str, str] = {}
        self._changed = asyncio.Event()
        # This replica's own wake-up stream: a new subscriber ends the reader's wait at once.
        self._wake_key = f"notification-gateway:fanout:{uuid.uuid4().hex}"

    @contextlib.asynccontextmanager
    async def subscribe(self, user_id: str) -> AsyncIterator[Subscription]:
        """Live entries of `user_id`'s stream from (at the latest) the moment this returns."""
        subscription = Subscription(user_id)
        self._subscriptions.setdefault(user_id, set()).add(subscription)
        try:
            if user_id not in self._cursors:
                last = await self._stream.last_id(user_id)
                # Another subscriber may have set it meanwhile, and the reader moved it on.
                self._cursors.setdefault(user_id, last)
                self._changed.set()
                await self._stream.nudge(self._wake_key)
            yield subscription
        finally:
            subscribers = self._subscriptions.get(user_id, set())
            subscribers.discard(subscription)
            if not subscribers:
                self._subscriptions.pop(user_id, None)
                self._cursors.pop(user_id, None)

    @property
    def subscribers(self) -> int:
        return sum(len(s) for s in self._subscriptions.values())

    async def run_once(self) -> None:
        """One round of the reader: wait for entries of any subscribed user and hand them out."""
        cursors = dict(self._cursors)
        if not cursors:
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=1.0)
            return
        try:
            batches = await self._stream.read_many(
                cursors, block_ms=self._block_ms, wake_key=self._wake_key
            )
        except Exception:
            logger.exception("reading the notification streams failed; retrying in 1 s")
            await asyncio.sleep(1.0)
            return
        for user_id, entries in batches.items():
            if not entries or user_id not in self._cursors:
                continue
            self._cursors[user_id] = entries[-1].id
            for subscription in list(self._subscriptions.get(user_id, ())):
                self._hand_out(subscription, entries)

    @staticmethod
    def _hand_out(subscription: Subscription, entries: list[StreamEntry]) -> None:
        for entry in entries:
            try:
                subscription.entries.put_nowait(entry)
            except asyncio.QueueFull:
                subscription.lagged = True
                return
