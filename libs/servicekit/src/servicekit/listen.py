"""A PostgreSQL LISTEN connection a service owns: opened here, reopened when lost, closed once.

A pooled connection cannot LISTEN (the pool hands it to someone else), so a listener needs its
own. servicekit opens it, as it opens every pool and channel: a service names the channel and
what a NOTIFY should do, and polls as its fallback. NOTIFY arrives only after the sender's
commit, so whoever is woken finds the rows committed.
"""

import logging
from collections.abc import Callable

import asyncpg

logger = logging.getLogger(__name__)

OnNotify = Callable[[str], None]
"""Called with the NOTIFY payload ('' when none), on the event loop; keep it quick."""


class Listener:
    """LISTENs on `channel` over a dedicated connection to `dsn`, opened by `ensure_listening`."""

    def __init__(self, dsn: str, *, channel: str, on_notify: OnNotify) -> None:
        self._dsn = dsn
        self._channel = channel
        self._on_notify = on_notify
        self._conn: asyncpg.Connection | None = None

    @property
    def listening(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    async def ensure_listening(self) -> bool:
        """Open the connection if it is not open; False (logged) when PostgreSQL refuses.

        Call it before each wait: a connection lost since comes back here, and until it does
        the caller's poll interval keeps the work going.
        """
        if self.listening:
            return True
        try:
            conn = await asyncpg.connect(self._dsn)
        except (OSError, asyncpg.PostgresError) as exc:
            logger.warning("cannot LISTEN on %s (%s); polling only", self._channel, exc)
            return False
        try:
            await conn.add_listener(self._channel, self._notified)
        except (OSError, asyncpg.PostgresError) as exc:
            logger.warning("cannot LISTEN on %s (%s); polling only", self._channel, exc)
            await conn.close()
            return False
        self._conn = conn
        return True

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        self._on_notify(str(payload or ""))

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            await conn.close()
