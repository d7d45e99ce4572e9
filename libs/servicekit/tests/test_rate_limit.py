"""The fixed window on the real Redis: its limit, its Retry-After, and a window never extended."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest_asyncio
import redis.asyncio as aioredis
from servicekit.rate_limit import FixedWindowLimiter


@pytest_asyncio.fixture(loop_scope="session")
async def redis() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url("redis://127.0.0.1:6379/1", decode_responses=True)
    yield client
    await client.aclose()


async def test_the_limit_then_a_refusal_saying_when_the_window_ends(redis: aioredis.Redis) -> None:
    prefix = f"limit-test-{uuid.uuid4()}"
    limiter = FixedWindowLimiter(redis, prefix=prefix, limit=3, window_seconds=30)
    decisions = await asyncio.gather(*(limiter.attempt("buyer-1") for _ in range(5)))
    assert sorted(d.allowed for d in decisions) == [False, False, True, True, True]
    refused = [d for d in decisions if not d.allowed]
    assert all(0 < d.retry_after_seconds <= 30 for d in refused)
    assert (await limiter.attempt("buyer-2")).allowed  # each key its own window
    assert 0 < await redis.ttl(f"{prefix}:buyer-1") <= 30


async def test_later_attempts_never_extend_the_window(redis: aioredis.Redis) -> None:
    prefix = f"limit-test-{uuid.uuid4()}"
    limiter = FixedWindowLimiter(redis, prefix=prefix, limit=100, window_seconds=2)
    await limiter.attempt("buyer-1")
    await asyncio.sleep(1.1)
    await limiter.attempt("buyer-1")  # a second later: the window still ends 2 s after the first
    assert await redis.ttl(f"{prefix}:buyer-1") <= 1
    await asyncio.sleep(1.2)
    assert await redis.get(f"{prefix}:buyer-1") is None  # ended: the next attempt starts anew
    assert (await limiter.attempt("buyer-1")).allowed
    assert await redis.get(f"{prefix}:buyer-1") == "1"


async def test_the_script_is_loaded_again_after_redis_forgot_it(redis: aioredis.Redis) -> None:
    prefix = f"limit-test-{uuid.uuid4()}"
    limiter = FixedWindowLimiter(redis, prefix=prefix, limit=1, window_seconds=30)
    assert (await limiter.attempt("buyer-1")).allowed
    await redis.script_flush()  # a Redis restart, or a failover to a replica without it
    assert not (await limiter.attempt("buyer-1")).allowed
