"""Injected Snap / Core API failures: the next N calls answer 5xx or 429, or answer late.

Lets payment-service test what it does when Midtrans is down or slow, which the real
sandbox cannot be made to do on demand.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass

from fastapi.responses import JSONResponse

APIS = ("snap", "core")
SNAP_500 = ["Sorry, we encountered internal server error. We will fix this soon."]
CORE_MESSAGES = {
    429: "Too many requests, please retry later.",
    500: "Sorry. Our system is recovering from unexpected issues. Please retry.",
    502: "Internal Server Error",
    503: "Bank/partner is experiencing connection issue.",
    504: "Internal Server Error",
}
STATUSES = frozenset({429, *range(500, 600)})


@dataclass(frozen=True, slots=True)
class ApiFault:
    status: int | None  # None: answer normally, only late
    delay_seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {"status": self.status, "delay_seconds": self.delay_seconds}


class ApiFaults:
    def __init__(self) -> None:
        self._queues: dict[str, deque[ApiFault]] = {api: deque() for api in APIS}

    def add(self, api: str, fault: ApiFault, count: int) -> None:
        self._queues[api].extend([fault] * count)

    def take(self, api: str) -> ApiFault | None:
        queue = self._queues[api]
        return queue.popleft() if queue else None

    def pending(self) -> dict[str, list[dict[str, object]]]:
        return {api: [f.as_dict() for f in queue] for api, queue in self._queues.items()}

    def clear(self) -> None:
        for queue in self._queues.values():
            queue.clear()


async def injected(faults: ApiFaults, api: str) -> JSONResponse | None:
    """Apply the next fault for this API: wait, then answer 5xx if it says so."""
    fault = faults.take(api)
    if fault is None:
        return None
    if fault.delay_seconds:
        await asyncio.sleep(fault.delay_seconds)
    if fault.status is None:
        return None
    if api == "snap" and fault.status == 429:
        body: dict[str, object] = {"error_messages": [CORE_MESSAGES[429]]}
    elif api == "snap":
        body = {"error_messages": SNAP_500, "locale": "en"}
    else:
        message = CORE_MESSAGES.get(fault.status, CORE_MESSAGES[500])
        body = {"status_code": str(fault.status), "status_message": message}
    return JSONResponse(body, status_code=fault.status)
