"""The offer maker's job: woken by a NOTIFY when seats come back, and sweeping every few seconds.

The trigger on the seat counters NOTIFYs `waitlist_seats` with the event's id after the commit
that freed seats; the job serves those events at once. The sweep (the poll interval) serves
every event with free seats and someone waiting, and expires offers not taken in time, so a lost
listener connection or a missed NOTIFY only delays an offer by one interval.
"""

import asyncio
import contextlib
from datetime import UTC, datetime

from servicekit.app import Runtime
from servicekit.jobs import PeriodicJob
from servicekit.listen import Listener

from ticket_service import bootstrap
from ticket_service.service_layer.waitlist_offers import OfferMakerStore, make_offers
from ticket_service.settings import TicketSettings

CHANNEL = "waitlist_seats"


class OfferMakerJob:
    def __init__(
        self, store: OfferMakerStore, *, dsn: str, poll_seconds: float, batch_size: int
    ) -> None:
        self._store = store
        self._poll_seconds = poll_seconds
        self._batch_size = batch_size
        self._woken: set[str] = set()
        self._wake = asyncio.Event()
        self._listener = Listener(dsn, channel=CHANNEL, on_notify=self._notified)

    def _notified(self, event_id: str) -> None:
        if event_id:
            self._woken.add(event_id)
        self._wake.set()

    def periodic(self) -> PeriodicJob:
        # The pause lives in run_once (a wake-up or the poll), so the job's own interval is 0.
        return PeriodicJob("make-waitlist-offers", 0.0, self.run_once)

    async def run_once(self) -> int:
        await self._listener.ensure_listening()
        woken = False
        with contextlib.suppress(TimeoutError):
            woken = await asyncio.wait_for(self._wake.wait(), timeout=self._poll_seconds)
        self._wake.clear()
        event_ids, self._woken = sorted(self._woken), set()
        now = datetime.now(UTC)
        if woken and event_ids:
            return await make_offers(
                self._store, now=now, event_ids=event_ids, batch_size=self._batch_size
            )
        return await make_offers(self._store, now=now, batch_size=self._batch_size)

    async def aclose(self) -> None:
        await self._listener.aclose()


def offer_maker_job(settings: TicketSettings, runtime: Runtime) -> OfferMakerJob:
    return OfferMakerJob(
        bootstrap.offer_maker_store(runtime.pool, runtime.outbox),
        dsn=settings.database_url.get_secret_value(),
        poll_seconds=settings.waitlist_sweep_interval_seconds,
        batch_size=settings.waitlist_batch_size,
    )
