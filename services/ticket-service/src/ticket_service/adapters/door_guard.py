"""Failed check-ins and code lookups per caller, counted in Redis and in Prometheus.

What the door refuses for guessing (unknown code, forged QR) counts against the caller (a host's
user id or a scanner); past the limit every attempt gets 429 until the window ends. Admissions
never count, so a busy gate is never slowed by its own success.
"""

import redis.asyncio as aioredis
from prometheus_client import Counter

from ticket_service.domain.door import Actor, DoorRateLimited

FAILED_ATTEMPTS = Counter(
    "ticket_door_failed_attempts",
    "Check-ins and code lookups refused as unknown or forged, by why (enumeration shows here).",
    ["reason"],
)
RATE_LIMITED = Counter(
    "ticket_door_rate_limited", "Door attempts answered 429 because the caller failed too often."
)


class RedisDoorGuard:
    def __init__(
        self, redis: aioredis.Redis, *, failures_allowed: int, window_seconds: int
    ) -> None:
        self._redis = redis
        self._allowed = failures_allowed
        self._window = window_seconds

    @staticmethod
    def _key(actor: Actor) -> str:
        return f"ticket-service:door-failures:{actor.rate_key}"

    async def check(self, actor: Actor) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(self._key(actor))
            pipe.ttl(self._key(actor))
            count, ttl = await pipe.execute()
        if count is not None and int(count) >= self._allowed:
            RATE_LIMITED.inc()
            raise DoorRateLimited(max(int(ttl), 1))

    async def failed(self, actor: Actor, reason: str) -> None:
        FAILED_ATTEMPTS.labels(reason).inc()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(self._key(actor))
            pipe.expire(self._key(actor), self._window, nx=True)
            await pipe.execute()
