"""Failed check-ins and code lookups per caller, counted in Redis and in Prometheus.

What the door refuses for guessing (unknown code, forged QR) counts against the caller (a host's
user id or a scanner); past the limit every attempt gets 429 until the window ends. Admissions
never count, so a busy gate is never slowed by its own success.
"""

import time

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


class RecentlyClear:
    """Callers Redis found under their limit a moment ago, so their next check-ins skip it.

    The check was a Redis round trip on every admission, about a quarter of a check-in's CPU.
    A caller's own failure here forgets it at once, so a guesser meets Redis again on every
    attempt; only failures counted by another process in the last `seconds` can go unseen, a
    second's worth of attempts at most, against a lockout window of minutes.
    """

    def __init__(self, seconds: float = 1.0, size: int = 10_000) -> None:
        self._seconds = seconds
        self._size = size
        self._until: dict[str, float] = {}

    def __contains__(self, key: str) -> bool:
        until = self._until.get(key)
        return until is not None and time.monotonic() < until

    def remember(self, key: str) -> None:
        if len(self._until) >= self._size:
            self._until.clear()
        self._until[key] = time.monotonic() + self._seconds

    def forget(self, key: str) -> None:
        self._until.pop(key, None)


class RedisDoorGuard:
    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        failures_allowed: int,
        window_seconds: int,
        clear: RecentlyClear | None = None,
    ) -> None:
        self._redis = redis
        self._allowed = failures_allowed
        self._window = window_seconds
        self._clear = clear if clear is not None else RecentlyClear(seconds=0)

    @staticmethod
    def _key(actor: Actor) -> str:
        return f"ticket-service:door-failures:{actor.rate_key}"

    async def check(self, actor: Actor) -> None:
        key = self._key(actor)
        if key in self._clear:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(key)
            pipe.ttl(key)
            count, ttl = await pipe.execute()
        if count is not None and int(count) >= self._allowed:
            RATE_LIMITED.inc()
            raise DoorRateLimited(max(int(ttl), 1))
        self._clear.remember(key)

    async def failed(self, actor: Actor, reason: str) -> None:
        self._clear.forget(self._key(actor))
        FAILED_ATTEMPTS.labels(reason).inc()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(self._key(actor))
            pipe.expire(self._key(actor), self._window, nx=True)
            await pipe.execute()
