"""Expiring unpaid holds: the seat goes back on sale and `ticket.expired` tells payment-service.

Safe with several replicas: each run claims due tickets with FOR UPDATE SKIP LOCKED, so two
sweepers never expire the same ticket, and a payment being applied to a ticket (which holds its
row lock) is never raced.
"""

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Protocol

from servicekit.logs import log_fields

from ticket_service.domain.entities import Ticket
from ticket_service.service_layer.ports import TicketEvents, Transactional

logger = logging.getLogger(__name__)


class HoldsRepository(Transactional, Protocol):
    @property
    def events(self) -> TicketEvents: ...

    async def expire_due_holds(self, *, now: datetime, limit: int) -> list[Ticket]:
        """Expire up to `limit` due holds, free their seats, cancel their transactions."""


HoldsStore = Callable[[], AbstractAsyncContextManager[HoldsRepository]]


async def expire_unpaid_holds(
    store: HoldsStore, *, batch_size: int = 200, now: datetime | None = None
) -> int:
    """Expire one batch of due holds; returns how many tickets expired."""
    now = now or datetime.now(UTC)
    async with store() as repo, repo.transaction():
        expired = await repo.expire_due_holds(now=now, limit=batch_size)
        for ticket in expired:
            await repo.events.expired(ticket, at=now)
    if expired:
        logger.info("expired unpaid holds", extra=log_fields(count=len(expired)))
    return len(expired)
