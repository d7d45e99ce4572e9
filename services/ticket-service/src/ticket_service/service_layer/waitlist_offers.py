"""The offer maker: seats that come back go to the head of each type's line, in order.

Woken by PostgreSQL NOTIFY when seats come back (a trigger on the seat counters) and by a
periodic sweep that also expires offers not taken in time. Single-flight per event with any
number of replicas: each pass runs under the event row's lock, the lock every seat change
takes, so two offer makers never offer the same seat and never race a purchase or a release.
"""

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import Protocol

from servicekit.logs import log_fields

from ticket_service.domain.waitlist import WaitlistEntry, WaitlistOffer
from ticket_service.service_layer.ports import Transactional

logger = logging.getLogger(__name__)


class OfferMakerRepository(Transactional, Protocol):
    async def events_to_serve(self, *, now: datetime, limit: int) -> list[str]:
        """Events with someone waiting or an offer due to expire."""

    async def lock_event(self, event_id: str) -> int | None:
        """Lock the event; the host's offer time in minutes, or None when it is gone."""

    async def expire_due_offers(self, event_id: str, *, now: datetime) -> list[WaitlistOffer]:
        """End the offers not taken in time, lapse their entries, release their seats."""

    async def waiting_line(self, event_id: str, *, limit: int) -> list[WaitlistEntry]:
        """Entries still waiting, every type's line together, first come first served."""

    async def free_seats(self, event_id: str, ticket_type_id: str) -> int:
        """Seats a new hold of the type could take: the least free of event, type and quotas."""

    async def make_offer(self, entry: WaitlistEntry, *, expires_at: datetime) -> WaitlistOffer:
        """Hold the entry's seats at every level and mark the entry offered."""

    async def record_offered(self, offer: WaitlistOffer) -> None:
        """Write `waitlist.offered` to the outbox."""


OfferMakerStore = Callable[[], AbstractAsyncContextManager[OfferMakerRepository]]


async def make_offers(
    store: OfferMakerStore,
    *,
    now: datetime,
    event_ids: list[str] | None = None,
    batch_size: int = 100,
) -> int:
    """Expire what is due and offer what is free; returns how many offers were made."""
    if event_ids is None:
        async with store() as repo:
            event_ids = await repo.events_to_serve(now=now, limit=batch_size)
    made = 0
    for event_id in sorted(event_ids):  # one fixed order: two passes never wait in a cycle
        made += await _serve_event(store, event_id, now=now, batch_size=batch_size)
    return made


async def _serve_event(
    store: OfferMakerStore, event_id: str, *, now: datetime, batch_size: int
) -> int:
    async with store() as repo, repo.transaction():
        offer_minutes = await repo.lock_event(event_id)
        if offer_minutes is None:
            return 0
        expired = await repo.expire_due_offers(event_id, now=now)
        offers = await _offer_free_seats(
            repo, event_id, expires_at=now + timedelta(minutes=offer_minutes), limit=batch_size
        )
    if expired or offers:
        logger.info(
            "waiting list served",
            extra=log_fields(event_id=event_id, expired=len(expired), offered=len(offers)),
        )
    return len(offers)


async def _offer_free_seats(
    repo: OfferMakerRepository, event_id: str, *, expires_at: datetime, limit: int
) -> list[WaitlistOffer]:
    offers: list[WaitlistOffer] = []
    blocked: set[str] = set()
    for entry in await repo.waiting_line(event_id, limit=limit):
        if entry.ticket_type_id in blocked:
            continue
        # Strictly in order: a head that needs more seats than are free keeps its place and
        # nobody behind it on the same line is served first.
        if entry.quantity > await repo.free_seats(event_id, entry.ticket_type_id):
            blocked.add(entry.ticket_type_id)
            continue
        offer = await repo.make_offer(entry, expires_at=expires_at)
        await repo.record_offered(offer)
        offers.append(offer)
    return offers
