"""The live stream's store: one Redis stream per user, read by every replica's SSE connections.

A notification is appended once (a marker key per delivery makes the append idempotent, so a
sender that retries after a crash does not show it twice). Entry ids are Redis stream ids
(`<ms>-<seq>`), increasing, and are the SSE `id:`, so `Last-Event-ID` resumes with XREAD.
"""

from typing import Any

import redis.asyncio as aioredis
from redis.typing import KeyT, StreamIdT
from servicekit.jsoncodec import dumps_text

from notification_gateway.domain.notifications import JsonObject
from notification_gateway.domain.stream import StreamEntry, id_order

__all__ = ["NotificationStream", "StreamEntry", "id_order", "stream_key"]


_APPEND_ONCE = """
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[4]) then
    local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*',
                          'event', ARGV[1], 'data', ARGV[2])
    redis.call('EXPIRE', KEYS[1], ARGV[4])
    return id
end
return false
"""


def stream_key(user_id: str) -> str:
    # The hash tag keeps a user's stream and markers in one Redis Cluster slot.
    return f"notification-gateway:{{{user_id}}}:stream"


def _marker_key(user_id: str, delivery_id: int) -> str:
    return f"notification-gateway:{{{user_id}}}:appended:{delivery_id}"


class NotificationStream:
    def __init__(self, redis: aioredis.Redis, *, maxlen: int, ttl_seconds: int) -> None:
        self._redis = redis
        self._maxlen = maxlen
        self._ttl = ttl_seconds
        self._append = redis.register_script(_APPEND_ONCE)

    async def append(
        self, *, user_id: str, delivery_id: int, event: str, notification: JsonObject
    ) -> str | None:
        """The new entry's id; None when this delivery was appended before."""
        result = await self._append(
            keys=[stream_key(user_id), _marker_key(user_id, delivery_id)],
            args=[event, dumps_text(notification), self._maxlen, self._ttl],
        )
        return str(result) if result else None

    async def last_id(self, user_id: str) -> str:
        entries = await self._redis.xrevrange(stream_key(user_id), count=1)
        return str(entries[0][0]) if entries else "0-0"

    async def read_after(
        self, user_id: str, after_id: str, *, count: int = 100
    ) -> list[StreamEntry]:
        """Entries after `after_id` (at most `count`), without waiting."""
        batches = await self.read_many({user_id: after_id}, count=count, block_ms=None)
        return batches.get(user_id, [])

    async def read_many(
        self,
        cursors: dict[str, str],
        *,
        count: int = 100,
        block_ms: int | None,
        wake_key: str | None = None,
    ) -> dict[str, list[StreamEntry]]:
        """Entries after each user's cursor, in one XREAD; waits up to `block_ms` for any.

        An entry added to `wake_key` (see `nudge`) while it waits ends the wait early.
        """
        users = {stream_key(user_id): user_id for user_id in cursors}
        streams: dict[KeyT, StreamIdT] = {
            stream_key(user_id): cursor for user_id, cursor in cursors.items()
        }
        if wake_key is not None:
            streams[wake_key] = "$"
        reply = await self._redis.xread(streams, count=count, block=block_ms)
        batches: dict[str, list[StreamEntry]] = {}
        for key, items in _stream_batches(reply):
            if str(key) not in users:
                continue
            batches[users[str(key)]] = [
                StreamEntry(
                    id=str(entry_id), event=fields.get("event", ""), data=fields.get("data", "")
                )
                for entry_id, fields in items
            ]
        return batches

    async def nudge(self, wake_key: str) -> None:
        """End a `read_many` waiting on `wake_key` (a new subscriber joined)."""
        await self._redis.xadd(wake_key, {"wake": "1"}, maxlen=10, approximate=True)
        await self._redis.expire(wake_key, 3600)


def _stream_batches(reply: Any) -> list[tuple[Any, list[tuple[Any, dict[str, str]]]]]:
    """XREAD's reply as (stream, entries) pairs: RESP2 gives a list of pairs, RESP3 a map.

    The client is opened with decode_responses=True, so keys, ids and fields are text.
    """
    if not reply:
        return []
    pairs = reply.items() if isinstance(reply, dict) else reply
    return [(key, [(entry_id, dict(fields)) for entry_id, fields in items]) for key, items in pairs]
