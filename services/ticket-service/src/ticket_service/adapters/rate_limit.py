"""Purchase attempts per user per window, counted in Redis so every replica shares the count."""

import redis.asyncio as aioredis
from servicekit.rate_limit import FixedWindowLimiter, RateDecision


class PurchaseRateLimiter(FixedWindowLimiter):
    """A fixed window that starts at a user's first attempt (servicekit's limiter)."""

    def __init__(self, redis: aioredis.Redis, *, limit: int, window_seconds: int) -> None:
        super().__init__(
            redis,
            prefix="ticket-service:purchase-attempts",
            limit=limit,
            window_seconds=window_seconds,
        )


__all__ = ["PurchaseRateLimiter", "RateDecision"]
