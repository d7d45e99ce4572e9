"""The delivery job: woken by a commit (PostgreSQL LISTEN) or by its poll interval.

A dedicated connection LISTENs on the channel the consumer NOTIFYs in its transaction; the
notification arrives only after commit, on every replica. The poll interval is the fallback
(retries that came due, a lost listener connection).
"""

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg
from servicekit.jobs import PeriodicJob

from notification_gateway.adapters.repository import WAKE_CHANNEL
from notification_gateway.service_layer.delivery import Dispatcher

logger = logging.getLogger(__name__)


class DeliveryJob:
    def __init__(self, dispatcher: Dispatcher, *, dsn: str, poll_seconds: float) -> None:
        self._dispatcher = dispatcher
        self._dsn = dsn
        self._poll_seconds = poll_seconds
        self._listener: asyncpg.Connection | None = None

    def periodic(self) -> PeriodicJob:
        # The pause lives in run_once (wait for a wake-up or the poll), so the job's own is 0.
        return PeriodicJob("deliver-notifications", 0.0, self.run_once)

    async def run_once(self) -> None:
        await self._ensure_listener()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._dispatcher.wake.wait(), timeout=self._poll_seconds)
        self._dispatcher.wake.clear()
        await self._dispatcher.deliver_due()

    async def _ensure_listener(self) -> None:
        if self._listener is not None and not self._listener.is_closed():
            return
        try:
            conn = await asyncpg.connect(self._dsn)
            await conn.add_listener(WAKE_CHANNEL, self._on_notify)
        except (OSError, asyncpg.PostgresError) as exc:
            logger.warning("cannot LISTEN for new deliveries (%s); polling only", exc)
            return
        self._listener = conn

    def _on_notify(self, *_args: Any) -> None:
        self._dispatcher.wake.set()

    async def aclose(self) -> None:
        if self._listener is not None and not self._listener.is_closed():
            await self._listener.close()
