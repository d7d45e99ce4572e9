"""Purchase attempts per user per window, counted in Redis so every replica shares the count."""

from dataclasses import dataclass

import redis.asyncio as aioredis


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after_seconds: int


class PurchaseRateLimiter:
    """A fixed window that starts at a user's first attempt: INCR, then EXPIRE NX, atomically."""

    def __init__(self, redis: aioredis.Redis, *, limit: int, window_seconds: int) -> None:
        self._redis = redis
        self._limit = limit
        self._window = window_seconds

    async def attempt(self, user_id: str) -> RateDecision:
        key = f"ticket-service:purchase-attempts:{user_id}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, self._window, nx=True)
            pipe.ttl(key)
            count, _, ttl = await pipe.execute()
        if int(count) <= self._limit:
            return RateDecision(True, 0)
        return RateDecision(False, max(int(ttl), 1))
