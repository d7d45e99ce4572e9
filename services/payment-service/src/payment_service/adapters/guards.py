"""Redis-backed guards of the public endpoints: per-user limits, the status cache, the audit budget.

Redis is shared by every replica, so a limit or a cached answer holds across them. A Redis
failure never blocks a payment: the guard lets the request through and logs it.
"""

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from servicekit.rate_limit import FixedWindowLimiter, RateDecision

logger = logging.getLogger(__name__)


class StatusCache:
    """Midtrans' status answer per order for a few seconds (the status endpoint's polling), under
    the payment's version: a change to the payment leaves the old answer unread until it ends."""

    def __init__(self, redis: aioredis.Redis, *, prefix: str, seconds: float) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ms = max(int(seconds * 1000), 0)

    async def get(self, order_id: str, version: str) -> dict[str, Any] | None:
        if not self._ms:
            return None
        try:
            raw = await self._redis.get(self._key(order_id, version))
        except RedisError as exc:
            logger.warning("status cache unavailable: %s", exc)
            return None
        value = json.loads(raw) if raw else None
        return value if isinstance(value, dict) else None

    def _key(self, order_id: str, version: str) -> str:
        return f"{self._prefix}:midtrans-status:{order_id}:{version}"

    async def put(self, order_id: str, version: str, body: dict[str, Any]) -> None:
        if not self._ms:
            return
        try:
            await self._redis.set(self._key(order_id, version), json.dumps(body), px=self._ms)
        except RedisError as exc:
            logger.warning("status cache unavailable: %s", exc)


class InvalidBodyBudget:
    """How many invalid notification bodies may still be stored this minute (all replicas)."""

    def __init__(self, redis: aioredis.Redis, *, prefix: str, per_minute: int) -> None:
        self._redis = redis
        self._prefix = prefix
        self._per_minute = per_minute

    async def admit(self) -> bool:
        key = f"{self._prefix}:invalid-notifications:{int(time.time() // 60)}"
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, 120, nx=True)
                count, _ = await pipe.execute()
        except RedisError as exc:
            logger.warning("invalid-body budget unavailable, storing: %s", exc)
            return True
        return int(count) <= self._per_minute


class UserLimiter:
    """A per-user fixed window; lets the request through when Redis is down."""

    def __init__(self, limiter: FixedWindowLimiter) -> None:
        self._limiter = limiter

    async def attempt(self, user_id: str) -> RateDecision:
        try:
            return await self._limiter.attempt(user_id)
        except RedisError as exc:
            logger.warning("rate limit unavailable, allowing: %s", exc)
            return RateDecision(True, 0)


@dataclass(frozen=True)
class Guards:
    snap_token: UserLimiter
    status: UserLimiter
    status_cache: StatusCache
    invalid_bodies: InvalidBodyBudget


def redis_guards(
    redis: aioredis.Redis,
    *,
    prefix: str,
    snap_token_limit: int,
    status_limit: int,
    window_seconds: int,
    status_cache_seconds: float,
    invalid_per_minute: int,
) -> Guards:
    def limiter(name: str, limit: int) -> UserLimiter:
        return UserLimiter(
            FixedWindowLimiter(
                redis, prefix=f"{prefix}:{name}", limit=limit, window_seconds=window_seconds
            )
        )

    return Guards(
        snap_token=limiter("snap-token", snap_token_limit),
        status=limiter("status", status_limit),
        status_cache=StatusCache(redis, prefix=prefix, seconds=status_cache_seconds),
        invalid_bodies=InvalidBodyBudget(redis, prefix=prefix, per_minute=invalid_per_minute),
    )
