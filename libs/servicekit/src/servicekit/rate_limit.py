"""Fixed-window rate limits counted in Redis, so every replica of a service shares the count."""

from dataclasses import dataclass

import redis.asyncio as aioredis


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after_seconds: int


class FixedWindowLimiter:
    """A window that starts at a key's first attempt: INCR, then EXPIRE NX, atomically."""

    def __init__(
        self, redis: aioredis.Redis, *, prefix: str, limit: int, window_seconds: int
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._limit = limit
        self._window = window_seconds

    async def attempt(self, key: str) -> RateDecision:
        name = f"{self._prefix}:{key}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, self._window, nx=True)
            pipe.ttl(name)
            count, _, ttl = await pipe.execute()
        if int(count) <= self._limit:
            return RateDecision(True, 0)
        return RateDecision(False, max(int(ttl), 1))
