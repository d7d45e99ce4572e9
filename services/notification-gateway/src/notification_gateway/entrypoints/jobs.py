"""The delivery job: woken by a commit (PostgreSQL LISTEN) or by its poll interval.

servicekit's `Listener` owns the connection that LISTENs on the channel the consumer NOTIFYs in
its transaction; the notification arrives only after commit, on every replica. The poll
interval is the fallback (retries that came due, a lost listener connection).
"""

import asyncio
import contextlib

from servicekit.jobs import PeriodicJob
from servicekit.listen import Listener

from notification_gateway.service_layer.delivery import Dispatcher


class DeliveryJob:
    def __init__(self, dispatcher: Dispatcher, *, listener: Listener, poll_seconds: float) -> None:
        self._dispatcher = dispatcher
        self._listener = listener
        self._poll_seconds = poll_seconds

    def periodic(self) -> PeriodicJob:
        # The pause lives in run_once (wait for a wake-up or the poll), so the job's own is 0.
        return PeriodicJob("deliver-notifications", 0.0, self.run_once)

    async def run_once(self) -> None:
        await self._listener.ensure_listening()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._dispatcher.wake.wait(), timeout=self._poll_seconds)
        self._dispatcher.wake.clear()
        await self._dispatcher.deliver_due()
