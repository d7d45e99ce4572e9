"""Fixed-window rate limits counted in Redis, so every replica of a service shares the count."""

from dataclasses import dataclass

import redis.asyncio as aioredis


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after_seconds: int


# INCR, then EXPIRE NX (a window starts at its key's first attempt and is never extended), then
# the TTL: one command and one reply, where a MULTI pipeline was five of each.
_ATTEMPT = """
local count = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1], 'NX')
return {count, redis.call('TTL', KEYS[1])}
"""


class FixedWindowLimiter:
    """A window that starts at a key's first attempt: INCR, then EXPIRE NX, atomically."""

    def __init__(
        self, redis: aioredis.Redis, *, prefix: str, limit: int, window_seconds: int
    ) -> None:
        self._attempt = redis.register_script(_ATTEMPT)
        self._prefix = prefix
        self._limit = limit
        self._window = window_seconds

    async def attempt(self, key: str) -> RateDecision:
        count, ttl = await self._attempt(keys=[f"{self._prefix}:{key}"], args=[self._window])
        if int(count) <= self._limit:
            return RateDecision(True, 0)
        return RateDecision(False, max(int(ttl), 1))
