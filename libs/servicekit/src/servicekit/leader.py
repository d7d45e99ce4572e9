"""One worker of a process's workers runs its background work: a PostgreSQL advisory lock.

With `WEB_CONCURRENCY` workers every one could run the outbox relay and the periodic jobs; they
are all safe to run at once (SKIP LOCKED, conditional updates), but N copies polling is N times
the work for nothing. The worker whose session holds the group's advisory lock (named after the
service and the serving process, so replicas stay independent, each with its own settings) is
the one that runs them; when it dies its session ends, the lock
is free, and the next worker to ask takes over. Leadership saves work, it is not what keeps the
work correct: a leader that lost its connection without knowing it yet may overlap with the
next one for a moment, which the jobs and the relay already tolerate.
"""

import asyncio
import logging
import os
import zlib

import asyncpg

logger = logging.getLogger(__name__)

WORKER_GROUP_ENV = "SERVICEKIT_WORKER_GROUP"
"""Set by `servicekit.serve` for the workers it forks: the lock is one per group of workers."""

_NAMESPACE = zlib.crc32(b"servicekit.leader") & 0x7FFFFFFF


class Leadership:
    """Holds (or keeps asking for) the advisory lock `name` over its own connection to `dsn`."""

    def __init__(self, dsn: str, name: str) -> None:
        self._dsn = dsn
        self._key = zlib.crc32(name.encode()) & 0x7FFFFFFF
        self._conn: asyncpg.Connection | None = None
        self._leading = False
        self._asking = asyncio.Lock()  # the relay and the jobs ask at once; one session asks

    async def is_leader(self) -> bool:
        """True while this process holds the lock; otherwise tries to take it (one round trip)."""
        async with self._asking:
            return await self._ask()

    async def _ask(self) -> bool:
        if self._conn is not None and self._conn.is_closed():
            self._conn, self._leading = None, False
        if self._leading:
            return True
        try:
            if self._conn is None:
                self._conn = await asyncpg.connect(self._dsn)
            self._leading = bool(
                await self._conn.fetchval(
                    "SELECT pg_try_advisory_lock($1, $2)", _NAMESPACE, self._key
                )
            )
        except (OSError, asyncpg.PostgresError) as exc:
            logger.warning("cannot ask for leadership (%s); background work waits", exc)
            await self.aclose()
            return False
        if self._leading:
            logger.info("worker %d runs the background work (outbox relay, jobs)", os.getpid())
        return self._leading

    async def aclose(self) -> None:
        conn, self._conn, self._leading = self._conn, None, False
        if conn is not None and not conn.is_closed():
            await conn.close()
