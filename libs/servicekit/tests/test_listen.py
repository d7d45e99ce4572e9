"""The LISTEN connection servicekit owns, on the real PostgreSQL."""

import asyncio

import asyncpg
from servicekit.listen import Listener


async def _notify(pool: asyncpg.Pool, channel: str, payload: str) -> None:
    await pool.execute("SELECT pg_notify($1, $2)", channel, payload)


async def test_a_notify_after_commit_reaches_the_callback(
    pool: asyncpg.Pool, database_url: str
) -> None:
    heard: asyncio.Queue[str] = asyncio.Queue()
    listener = Listener(database_url, channel="servicekit_test_wake", on_notify=heard.put_nowait)
    try:
        assert await listener.ensure_listening()
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_notify('servicekit_test_wake', 'inside')")
            await asyncio.sleep(0.1)
            assert heard.empty()  # not before commit
        assert await asyncio.wait_for(heard.get(), timeout=5) == "inside"
        await _notify(pool, "servicekit_test_wake", "")
        assert await asyncio.wait_for(heard.get(), timeout=5) == ""
    finally:
        await listener.aclose()


async def test_other_channels_are_not_heard(pool: asyncpg.Pool, database_url: str) -> None:
    heard: list[str] = []
    listener = Listener(database_url, channel="servicekit_test_mine", on_notify=heard.append)
    try:
        await listener.ensure_listening()
        await _notify(pool, "servicekit_test_other", "x")
        await asyncio.sleep(0.2)
        assert heard == []
    finally:
        await listener.aclose()


async def test_a_lost_connection_is_reopened_on_the_next_call(
    pool: asyncpg.Pool, database_url: str
) -> None:
    heard: asyncio.Queue[str] = asyncio.Queue()
    listener = Listener(database_url, channel="servicekit_test_back", on_notify=heard.put_nowait)
    try:
        await listener.ensure_listening()
        await pool.execute(
            """SELECT pg_terminate_backend(pid) FROM pg_stat_activity
               WHERE query LIKE 'LISTEN%servicekit_test_back%'"""
        )
        for _ in range(50):
            if not listener.listening:
                break
            await asyncio.sleep(0.1)
        assert not listener.listening
        assert await listener.ensure_listening()
        await _notify(pool, "servicekit_test_back", "again")
        assert await asyncio.wait_for(heard.get(), timeout=5) == "again"
    finally:
        await listener.aclose()


async def test_an_unreachable_database_means_polling_only() -> None:
    listener = Listener(
        "postgresql://nobody@127.0.0.1:1/none", channel="servicekit_test_none", on_notify=print
    )
    assert not await listener.ensure_listening()
    assert not listener.listening
    await listener.aclose()


async def test_closing_twice_is_harmless(database_url: str) -> None:
    listener = Listener(database_url, channel="servicekit_test_close", on_notify=print)
    await listener.ensure_listening()
    await listener.aclose()
    await listener.aclose()
    assert not listener.listening
