"""The pool hands every request a connection in a clean state, without a reset round trip,
and to its waiters in the order they asked."""

import asyncio

import asyncpg
import pytest
from servicekit.db import open_pool
from servicekit.migrations import apply_migrations

_ADVISORY_LOCKS_HELD = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
)


async def test_a_connection_released_mid_transaction_comes_back_out_of_it(
    database_url: str,
) -> None:
    pool = await open_pool(database_url, min_size=1, max_size=1)
    try:
        with pytest.raises(RuntimeError):
            async with pool.acquire() as conn:
                transaction = conn.transaction()
                await transaction.start()
                await conn.execute("SELECT pg_advisory_xact_lock(4242)")
                raise RuntimeError("the request failed half-way")
        async with pool.acquire() as conn:
            assert not conn.is_in_transaction()
            held = await conn.fetchval(_ADVISORY_LOCKS_HELD)
            assert held == 0
    finally:
        await pool.close()


async def test_migrations_leave_no_session_lock_on_the_pooled_connection(
    database_url: str,
) -> None:
    pool = await open_pool(database_url, min_size=1, max_size=1)
    try:
        await apply_migrations(pool)
        async with pool.acquire() as conn:
            held = await conn.fetchval(_ADVISORY_LOCKS_HELD)
            assert held == 0
    finally:
        await pool.close()


async def test_a_release_sends_no_reset_query(database_url: str) -> None:
    """asyncpg's default reset (`RESET ALL`, `UNLISTEN *`, ...) costs a round trip per release."""
    pool = await open_pool(database_url, min_size=1, max_size=1)
    other = await asyncpg.connect(database_url)
    try:
        async with pool.acquire() as conn:
            pid = await conn.fetchval("SELECT pg_backend_pid()")
            await conn.execute("SELECT 'the last statement of this request'")
        # After the release, the backend's last statement is still the request's own.
        last = await other.fetchval("SELECT query FROM pg_stat_activity WHERE pid = $1", pid)
        assert last == "SELECT 'the last statement of this request'"
    finally:
        await other.close()
        await pool.close()


async def test_connections_go_to_the_waiters_in_the_order_they_asked(database_url: str) -> None:
    """Twenty requests for two connections: none is served before one that asked earlier.

    asyncpg's own queue lets a newcomer take a connection that was just handed to a woken
    waiter, which then goes to the back of the line (asyncpg#1247): under load a few requests
    waited hundreds of ms while the rest were quick.
    """
    pool = await open_pool(database_url, min_size=2, max_size=2)
    asked: list[int] = []
    served: list[int] = []

    async def request(turn: int) -> None:
        asked.append(turn)
        async with pool.acquire() as conn:
            served.append(turn)
            await conn.execute("SELECT 1")

    async def client(first: int) -> None:
        for turn in range(first, first + 400, 20):
            await request(turn)

    try:
        await asyncio.wait_for(asyncio.gather(*(client(n) for n in range(20))), timeout=30)
    finally:
        await pool.close()
    assert len(served) == 400
    position = {turn: i for i, turn in enumerate(asked)}
    order = [position[turn] for turn in served]
    overtaken = sum(1 for i, asked_at in enumerate(order) if asked_at > min(order[i:]))
    assert overtaken == 0


async def test_no_turn_is_lost_or_doubled_by_a_waiter_giving_up_or_a_second_release(
    database_url: str,
) -> None:
    pool = await open_pool(database_url, min_size=1, max_size=1)
    try:
        held = await pool.acquire()

        async def acquire() -> object:
            return await pool.acquire()

        try:
            with pytest.raises(TimeoutError):
                await pool.acquire(timeout=0.05)
            cancelled = asyncio.create_task(acquire())
            await asyncio.sleep(0.01)
            cancelled.cancel()
        finally:
            await pool.release(held)
            await pool.release(held)  # a second release gives back no second turn
        async with pool.acquire(timeout=1) as conn:  # neither kept a turn
            assert await conn.fetchval("SELECT 1") == 1
            with pytest.raises(TimeoutError):  # and the pool still has only its one turn
                await pool.acquire(timeout=0.05)
    finally:
        await pool.close()
