"""Cancellation rules on an in-memory repository: who may cancel, when, and what is refunded."""

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from ticket_service.domain.door import (
    Actor,
    AlreadyCheckedIn,
    DoorTicket,
    EventAlreadyStarted,
    NotCancellable,
    TicketNotFound,
)
from ticket_service.service_layer.cancellation import CancelTicket, cancel_ticket

STARTS = datetime(2030, 1, 1, 19, tzinfo=UTC)
BEFORE = STARTS - timedelta(days=1)
AFTER = STARTS + timedelta(hours=1)


def make_ticket(**overrides: object) -> DoorTicket:
    fields: dict[str, object] = {
        "id": "t-1",
        "event_id": "e-1",
        "user_id": "buyer-1",
        "host_id": "host-1",
        "status": "active",
        "attendance_code": "A3F7",
        "is_checked_in": False,
        "checked_in_at": None,
        "price_paid": 50_000,
        "event_starts_at": STARTS,
    }
    fields.update(overrides)
    return DoorTicket(**fields)  # type: ignore[arg-type]


class FakeTickets:
    def __init__(self, ticket: DoorTicket) -> None:
        self.ticket_row = ticket
        self.seats_freed = 0
        self.refunds: list[tuple[str, int]] = []
        self.reasons: list[str] = []

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        yield

    async def ticket(self, ticket_id: str, *, lock: bool = False) -> DoorTicket | None:
        return self.ticket_row if ticket_id == self.ticket_row.id else None

    async def cancel(self, ticket: DoorTicket, *, by: str, reason: str) -> DoorTicket:
        self.seats_freed += 1
        self.reasons.append(reason)
        self.ticket_row = dataclasses.replace(ticket, status="cancelled")
        return self.ticket_row

    async def request_refund(self, ticket: DoorTicket, *, amount: int, reason: str) -> None:
        self.refunds.append((ticket.id, amount))


async def test_holder_cancels_a_paid_ticket_before_the_event_and_a_refund_is_requested() -> None:
    repo = FakeTickets(make_ticket())
    result = await cancel_ticket(repo, CancelTicket("t-1", Actor("buyer-1")), now=BEFORE)
    assert result.ticket.status == "cancelled"
    assert result.refund_requested == 50_000
    assert repo.refunds == [("t-1", 50_000)]
    assert repo.seats_freed == 1


async def test_holder_cancels_a_pending_hold_without_a_refund() -> None:
    repo = FakeTickets(make_ticket(status="pending"))
    result = await cancel_ticket(repo, CancelTicket("t-1", Actor("buyer-1")), now=BEFORE)
    assert result.refund_requested == 0
    assert repo.refunds == []
    assert repo.seats_freed == 1


async def test_free_ticket_cancelled_requests_no_refund() -> None:
    repo = FakeTickets(make_ticket(price_paid=0))
    await cancel_ticket(repo, CancelTicket("t-1", Actor("buyer-1")), now=BEFORE)
    assert repo.refunds == []


async def test_holder_cannot_cancel_once_the_event_started() -> None:
    repo = FakeTickets(make_ticket())
    with pytest.raises(EventAlreadyStarted):
        await cancel_ticket(repo, CancelTicket("t-1", Actor("buyer-1")), now=AFTER)
    assert repo.seats_freed == 0


async def test_checked_in_ticket_is_never_cancelled() -> None:
    repo = FakeTickets(make_ticket(is_checked_in=True, checked_in_at=BEFORE))
    for actor in (Actor("buyer-1"), Actor("host-1")):
        with pytest.raises(AlreadyCheckedIn):
            await cancel_ticket(repo, CancelTicket("t-1", actor), now=BEFORE)
    assert repo.seats_freed == 0


async def test_host_and_admin_cancel_any_ticket_of_their_event_at_any_time() -> None:
    for actor in (Actor("host-1"), Actor("admin-1", is_admin=True)):
        repo = FakeTickets(make_ticket())
        result = await cancel_ticket(repo, CancelTicket("t-1", actor, "no-show"), now=AFTER)
        assert result.ticket.status == "cancelled"
        assert repo.reasons == ["no-show"]


async def test_someone_else_cannot_cancel_and_learns_nothing() -> None:
    repo = FakeTickets(make_ticket())
    with pytest.raises(TicketNotFound):
        await cancel_ticket(repo, CancelTicket("t-1", Actor("stranger")), now=BEFORE)
    with pytest.raises(TicketNotFound):
        await cancel_ticket(repo, CancelTicket("t-1", Actor("host-2")), now=BEFORE)


@pytest.mark.parametrize("status", ["cancelled", "expired", "refunded"])
async def test_ticket_already_over_cannot_be_cancelled(status: str) -> None:
    repo = FakeTickets(make_ticket(status=status))
    with pytest.raises(NotCancellable) as refused:
        await cancel_ticket(repo, CancelTicket("t-1", Actor("host-1")), now=BEFORE)
    assert refused.value.details == {"status": status}
