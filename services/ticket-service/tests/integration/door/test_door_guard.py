"""The door's failure guard on real Redis: a caller found clear skips Redis for a second only."""

import asyncio
import uuid

import pytest
import redis.asyncio as aioredis
from ticket_service.adapters.door_guard import RecentlyClear, RedisDoorGuard
from ticket_service.domain.door import Actor, DoorRateLimited

REDIS_URL = "redis://127.0.0.1:6379/2"  # the door tests' Redis database (conftest)


def a_host() -> Actor:
    return Actor(user_id=f"host-{uuid.uuid4()}")


async def test_failures_counted_elsewhere_block_a_clear_caller_within_a_second() -> None:
    redis = aioredis.Redis.from_url(REDIS_URL)
    clear = RecentlyClear(seconds=0.3)
    here = RedisDoorGuard(redis, failures_allowed=3, window_seconds=60, clear=clear)
    elsewhere = RedisDoorGuard(redis, failures_allowed=3, window_seconds=60)
    actor = a_host()
    try:
        await here.check(actor)  # clear: remembered
        for _ in range(3):
            await elsewhere.failed(actor, "unknown_code")  # another worker's count
        await here.check(actor)  # still remembered as clear: the short blind spot
        await asyncio.sleep(0.35)
        with pytest.raises(DoorRateLimited):
            await here.check(actor)
    finally:
        await redis.aclose()


async def test_a_callers_own_failure_sends_its_next_check_to_redis() -> None:
    redis = aioredis.Redis.from_url(REDIS_URL)
    guard = RedisDoorGuard(redis, failures_allowed=2, window_seconds=60, clear=RecentlyClear(60))
    actor = a_host()
    try:
        await guard.check(actor)
        await guard.failed(actor, "unknown_code")
        await guard.check(actor)
        await guard.failed(actor, "unknown_code")
        with pytest.raises(DoorRateLimited):
            await guard.check(actor)
    finally:
        await redis.aclose()
