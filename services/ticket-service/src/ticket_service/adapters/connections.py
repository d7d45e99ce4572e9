"""A repository per pooled connection, opened when a use case needs one and released after."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TypeVar

import asyncpg

T = TypeVar("T")


def per_connection(
    pool: asyncpg.Pool, build: Callable[[asyncpg.Connection], T]
) -> Callable[[], AbstractAsyncContextManager[T]]:
    @asynccontextmanager
    async def open_repository() -> AsyncIterator[T]:
        async with pool.acquire() as conn:
            yield build(conn)

    return open_repository
