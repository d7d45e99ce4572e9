"""Following a person's live stream: what they missed since `Last-Event-ID`, then live entries.

Yields `CONNECTED` once subscribed, then entries in id order, each once, and `KEEP_ALIVE` when
nothing came for a heartbeat; ends when the subscriber fell too far behind (the client
reconnects with Last-Event-ID).
"""

import asyncio
from collections.abc import AsyncGenerator
from enum import Enum

from notification_gateway.domain.stream import StreamEntry, id_order
from notification_gateway.service_layer.fanout import StreamHub
from notification_gateway.service_layer.ports import StreamReader

CATCH_UP_PAGE = 100


class StreamSignal(Enum):
    CONNECTED = "connected"
    KEEP_ALIVE = "keep-alive"


async def follow_stream(
    stream: StreamReader,
    hub: StreamHub,
    *,
    user_id: str,
    resume_after: str | None,
    heartbeat_seconds: float,
) -> AsyncGenerator[StreamEntry | StreamSignal, None]:
    async with hub.subscribe(user_id) as subscription:
        # Subscribed first, then read what came before: nothing falls between the two, and
        # what both deliver is sent once (ids only grow).
        last = resume_after or await stream.last_id(user_id)
        yield StreamSignal.CONNECTED
        while resume_after is not None:
            missed = await stream.read_after(user_id, last)
            for entry in missed:
                last = entry.id
                yield entry
            if len(missed) < CATCH_UP_PAGE:
                break
        while not subscription.lagged:
            try:
                entry = await asyncio.wait_for(
                    subscription.entries.get(), timeout=heartbeat_seconds
                )
            except TimeoutError:
                yield StreamSignal.KEEP_ALIVE
                continue
            if id_order(entry.id) <= id_order(last):
                continue
            last = entry.id
            yield entry
