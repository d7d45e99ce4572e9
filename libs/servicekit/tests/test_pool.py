"""The pool hands every request a connection in a clean state, without a reset round trip."""

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
