"""Waiting in e2e tests for what the system does asynchronously (events, e-mails, refunds)."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T | None]], what: str, *, timeout: float = 30.0
) -> T:
    """The first truthy answer of `probe`, polled every 0.2 s; fails naming `what` at `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        found = await probe()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        await asyncio.sleep(0.2)
