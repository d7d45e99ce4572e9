"""The asyncpg pool, opened in the app's lifespan, and the connection-per-request dependency."""

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


async def open_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        command_timeout=30,
    )
    assert pool is not None
    return pool


async def _connection(request: Request) -> AsyncIterator[asyncpg.Connection]:
    pool: asyncpg.Pool = request.app.state.runtime.pool
    async with pool.acquire() as conn:
        yield conn


DbConn = Annotated[Any, Depends(_connection)]
"""One pooled connection for the request; repositories take it as their first argument."""
