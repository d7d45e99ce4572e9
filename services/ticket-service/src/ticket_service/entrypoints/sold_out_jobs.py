"""The LISTEN that keeps this process's sold-out memory true: seats that come back end it.

One job per worker (each has its own memory): it opens the connection, and reopens it once a
second after a loss; a reopened connection may have missed a NOTIFY, so the memory starts over.
"""

from servicekit.jobs import PeriodicJob
from servicekit.listen import Listener

from ticket_service.adapters.sold_out_memory import CHANNEL, RecentlySoldOut
from ticket_service.settings import TicketSettings


class SeatsBackListener:
    def __init__(self, settings: TicketSettings) -> None:
        self.memory = RecentlySoldOut(
            lambda: self._listener.listening, seconds=settings.sold_out_memory_seconds
        )
        self._listener = Listener(
            settings.database_url.get_secret_value(),
            channel=CHANNEL,
            on_notify=self.memory.seats_came_back,
        )
        self.enabled = settings.sold_out_memory_seconds > 0
        """Off (0 s): no LISTEN is opened, so nothing is ever remembered."""

    async def keep_listening(self) -> None:
        was_listening = self._listener.listening
        if await self._listener.ensure_listening() and not was_listening:
            self.memory.seats_came_back("")

    def periodic(self) -> PeriodicJob:
        return PeriodicJob("listen-for-seats-back", 1.0, self.keep_listening, single_flight=False)

    async def aclose(self) -> None:
        await self._listener.aclose()
