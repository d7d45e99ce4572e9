"""The waiting list's rules on an in-memory fake: who may join, who is offered, in which order."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from fakes import EVENT_ID, NOW
from ticket_service.domain.errors import SalesClosed
from ticket_service.domain.waitlist import (
    EntryStatus,
    OfferStatus,
    SeatsAvailable,
    TooManySeats,
    TypeOnSale,
    WaitlistEntry,
    WaitlistOffer,
    check_quantity,
    check_sold_out,
)
from ticket_service.service_layer.waitlist_offers import make_offers


def an_entry(n: int, *, type_id: str = "default", quantity: int = 1) -> WaitlistEntry:
    return WaitlistEntry(
        id=f"e-{n}",
        event_id=EVENT_ID,
        ticket_type_id=type_id,
        user_id=f"user-{n}",
        customer_name="Dewi",
        customer_email="dewi@example.id",
        customer_phone=None,
        quantity=quantity,
        status=EntryStatus.WAITING,
        joined_at=NOW + timedelta(seconds=n),
    )


@dataclass
class FakeLine:
    """One event's line and free seats per type; offers hold seats as the SQL does."""

    entries: list[WaitlistEntry]
    free: dict[str, int]
    offers: list[WaitlistOffer] = field(default_factory=list)
    told: list[str] = field(default_factory=list)
    minutes: int = 30

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        yield

    async def events_to_serve(self, *, now: datetime, limit: int) -> list[str]:
        return [EVENT_ID]

    async def lock_event(self, event_id: str) -> int | None:
        return self.minutes

    async def expire_due_offers(self, event_id: str, *, now: datetime) -> list[WaitlistOffer]:
        due = [o for o in self.offers if o.status == OfferStatus.OPEN and o.expires_at <= now]
        for offer in due:
            self.offers[self.offers.index(offer)] = replace(offer, status=OfferStatus.EXPIRED)
            self.free[offer.ticket_type_id] += offer.seats
            self._set(offer.entry_id, EntryStatus.LAPSED)
        return due

    async def waiting_line(self, event_id: str, *, limit: int) -> list[WaitlistEntry]:
        waiting = [e for e in self.entries if e.status == EntryStatus.WAITING]
        return sorted(waiting, key=lambda e: (e.joined_at, e.id))[:limit]

    async def free_seats(self, event_id: str, ticket_type_id: str) -> int:
        return self.free[ticket_type_id]

    async def make_offer(self, entry: WaitlistEntry, *, expires_at: datetime) -> WaitlistOffer:
        offer = WaitlistOffer(
            id=f"o-{entry.id}",
            entry_id=entry.id,
            event_id=entry.event_id,
            ticket_type_id=entry.ticket_type_id,
            user_id=entry.user_id,
            seats=entry.quantity,
            price=50_000,
            status=OfferStatus.OPEN,
            expires_at=expires_at,
            created_at=NOW,
        )
        self.free[entry.ticket_type_id] -= entry.quantity
        self._set(entry.id, EntryStatus.OFFERED)
        self.offers.append(offer)
        return offer

    async def record_offered(self, offer: WaitlistOffer) -> None:
        self.told.append(offer.user_id)

    def _set(self, entry_id: str, status: EntryStatus) -> None:
        self.entries = [replace(e, status=status) if e.id == entry_id else e for e in self.entries]

    def store(self) -> Any:
        @asynccontextmanager
        async def open_store() -> AsyncIterator["FakeLine"]:
            yield self

        return open_store


async def test_free_seats_go_to_the_first_in_line_each_told_once() -> None:
    line = FakeLine([an_entry(3), an_entry(1), an_entry(2)], free={"default": 2})
    assert await make_offers(line.store(), now=NOW) == 2
    assert line.told == ["user-1", "user-2"]
    assert {o.expires_at for o in line.offers} == {NOW + timedelta(minutes=30)}


async def test_a_head_needing_more_seats_keeps_its_place_on_its_line_only() -> None:
    entries = [an_entry(1, quantity=3), an_entry(2), an_entry(3, type_id="vip")]
    line = FakeLine(entries, free={"default": 2, "vip": 1})
    await make_offers(line.store(), now=NOW)
    assert line.told == ["user-3"]  # user-2 does not jump user-1; the vip line is its own


async def test_an_expired_offer_passes_its_seats_to_the_next_entry() -> None:
    line = FakeLine([an_entry(1), an_entry(2)], free={"default": 1}, minutes=10)
    await make_offers(line.store(), now=NOW)
    await make_offers(line.store(), now=NOW + timedelta(minutes=10))
    assert line.told == ["user-1", "user-2"]
    assert [e.status for e in line.entries] == [EntryStatus.LAPSED, EntryStatus.OFFERED]
    assert line.free == {"default": 0}


def _type(*, free: int, waiting: bool, per_order: int | None = None) -> TypeOnSale:
    return TypeOnSale(
        event_id=EVENT_ID,
        ticket_type_id="default",
        max_per_order=per_order,
        max_per_user=None,
        free_seats=free,
        someone_waiting=waiting,
    )


def test_the_list_is_only_for_what_cannot_be_bought_now() -> None:
    with pytest.raises(SeatsAvailable):
        check_sold_out(_type(free=2, waiting=False), 2)
    check_sold_out(_type(free=1, waiting=False), 2)  # two seats together: not to be had
    check_sold_out(_type(free=5, waiting=True), 1)  # seats free for the line are not on sale


def test_nobody_waits_for_more_seats_than_one_order_may_hold() -> None:
    with pytest.raises(TooManySeats):
        check_quantity(_type(free=0, waiting=True, per_order=4), 5)
    check_quantity(_type(free=0, waiting=True, per_order=4), 4)
    with pytest.raises(TooManySeats):
        check_quantity(_type(free=0, waiting=True), 11)


def test_there_is_no_line_once_sales_have_ended() -> None:
    ended = replace(_type(free=0, waiting=True), sales_closed=True)
    with pytest.raises(SalesClosed):
        check_sold_out(ended, 1)
