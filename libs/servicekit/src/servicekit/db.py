"""The asyncpg pool, opened in the app's lifespan, and the connection-per-request dependency."""

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Request

from servicekit.jsoncodec import dumps_text, loads


async def _init_connection(conn: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(type_name, encoder=dumps_text, decoder=loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What a released connection needs beyond asyncpg's own clean-up: nothing.

    asyncpg rolls back an open transaction and drops listeners on every release either way; its
    default reset also sends `pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`, a
    round trip per request. Pooled connections never change their session: locks are
    transaction-scoped (`pg_advisory_xact_lock`), settings `SET LOCAL`/`set_config(..., true)`,
    LISTEN has its own connection (`servicekit.listen`), and the migrations, the one session
    lock, unlock it themselves. A test pins that a released connection holds no session state.
    """


class FairPool(asyncpg.Pool):  # type: ignore[misc]  # asyncpg has no type hints
    """asyncpg's pool, handing out connections in the order they were asked for.

    asyncpg's own waiters queue on an `asyncio.Queue`, whose woken waiter goes to the back of the
    line when a newcomer takes the connection first (asyncpg#1247). Under load (fifty requests
    for ten connections) the same waiters lose again and again: most requests are fast and a
    few wait hundreds of milliseconds. Here a turn is taken first, from a semaphore as large as
    the pool that hands each release to the longest waiter, so the pool itself never has a
    waiter to pass over.
    """

    def __init__(self, dsn: str, *, max_size: int, **kwargs: Any) -> None:
        super().__init__(dsn, max_size=max_size, **kwargs)
        self._turns = asyncio.Semaphore(max_size)
        self._lent: set[int] = set()  # the connections out on a turn (a second release is a no-op)

    async def _acquire(self, timeout: float | None) -> Any:  # noqa: ASYNC109  # asyncpg's signature
        """A `timeout` bounds the wait for a turn, then the connection's opening (if it must)."""
        if timeout is None:
            await self._turns.acquire()
        else:
            async with asyncio.timeout(timeout):
                await self._turns.acquire()
        try:
            connection = await super()._acquire(timeout)
        except BaseException:
            self._turns.release()
            raise
        self._lent.add(id(connection))
        return connection

    async def release(self, connection: Any, *, timeout: float | None = None) -> None:  # noqa: ASYNC109
        try:
            await super().release(connection, timeout=timeout)
        finally:
            if id(connection) in self._lent:
                self._lent.discard(id(connection))
                self._turns.release()


async def open_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    pool = FairPool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        # What `asyncpg.create_pool` passes by default: the pool's own constructor has no defaults.
        max_queries=50_000,
        max_inactive_connection_lifetime=300.0,
        loop=None,
        connection_class=asyncpg.Connection,
        record_class=asyncpg.Record,
        init=_init_connection,
        reset=_keep_session,
        command_timeout=30,
    )
    await pool
    return pool


async def _connection(request: Request) -> AsyncIterator[asyncpg.Connection]:
    pool: asyncpg.Pool = request.app.state.runtime.pool
    async with pool.acquire() as conn:
        yield conn


DbConn = Annotated[Any, Depends(_connection)]
"""One pooled connection for the request; repositories take it as their first argument."""
