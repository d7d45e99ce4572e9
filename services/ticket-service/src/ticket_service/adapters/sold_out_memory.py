"""Events this process found sold out a moment ago: their next buyers are refused from memory.

A flash sale's buyers keep coming after the last seat is held, thousands of requests that each
ran `hold_order` to find no seat. An event found full is remembered for `seconds` (one by
default), and a keyless purchase or order of it is refused without a round trip.

A seat that comes back (a hold ended, a payment failed, a ticket cancelled, a raised capacity)
fires the trigger on the event's counters; its NOTIFY on `event_seats_back`, delivered after the
commit, makes every process forget the event, so the seat is on sale again at once. Nothing is
remembered while the LISTEN connection is down, and whatever was remembered before it went down
is forgotten when it comes back: a NOTIFY missed in between cannot leave an event looking full.
"""

import time
from collections.abc import Callable
from typing import Any

from ticket_service.domain.errors import SoldOut

CHANNEL = "event_seats_back"


class RecentlySoldOut:
    def __init__(
        self,
        listening: Callable[[], bool],
        *,
        seconds: float = 1.0,
        size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._listening = listening
        self._seconds = seconds
        self._size = size
        self._clock = clock
        self._found: dict[str, tuple[float, str, dict[str, Any]]] = {}
        self._seats_back = 0  # NOTIFYs seen: a finding older than the last one may be stale

    def mark(self) -> int:
        return self._seats_back

    def recall(self, event_id: str) -> SoldOut | None:
        found = self._found.get(event_id)
        if found is None:
            return None
        until, message, details = found
        if self._clock() >= until or not self._listening():
            del self._found[event_id]
            return None
        return SoldOut(message, details=details)

    def remember(self, event_id: str, refusal: SoldOut, *, mark: int) -> None:
        if self._seconds <= 0 or mark != self._seats_back or not self._listening():
            return
        if len(self._found) >= self._size:
            self._found.clear()
        self._found[event_id] = (self._clock() + self._seconds, str(refusal), dict(refusal.details))

    def seats_came_back(self, event_id: str) -> None:
        """The NOTIFY: `event_id` has seats again (an empty id: any event may)."""
        self._seats_back += 1
        if event_id:
            self._found.pop(event_id, None)
        else:
            self._found.clear()
