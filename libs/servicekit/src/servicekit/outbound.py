"""Pools for the services' outbound httpx clients (payment-service, Midtrans): kept, and bounded.

httpcore 1.0 closes an idle connection whenever the pool holds more connections than
`max_keepalive_connections` (it counts all of them, not the idle ones), so with the defaults
(100 connections, 20 kept) a burst of concurrent calls reconnects on nearly every call. And it
rescans every connection for every queued request at every step, so a burst of 500 calls
queued inside the pool costs CPU quadratic in the burst. `KeptConnections` keeps every
connection alive and lets calls wait for a free one in front of the pool (a semaphore, which
costs nothing per waiter), so the pool never holds a queue.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx


class KeptConnections:
    """At most `size` calls at once, each on a kept-alive connection of `limits`."""

    def __init__(self, size: int) -> None:
        self.limits = httpx.Limits(
            max_connections=size, max_keepalive_connections=size, keepalive_expiry=30.0
        )
        self._slots = asyncio.Semaphore(size)

    def transport(self) -> httpx.AsyncHTTPTransport:
        """The transport these limits are for: a client given its own transport ignores `limits`."""
        return httpx.AsyncHTTPTransport(limits=self.limits)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one connection's worth of the pool for one call (request and body read)."""
        async with self._slots:
            yield
