"""The hold sweeper on an in-memory fake: due holds expire once each, with `ticket.expired`."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fakes import NOW, FakeTicketEvents, a_ticket
from ticket_service.domain.entities import Ticket
from ticket_service.domain.tickets import TicketStatus
from ticket_service.service_layer.holds import expire_unpaid_holds


@dataclass
class FakeHolds:
    due: list[str]
    events: FakeTicketEvents = field(default_factory=FakeTicketEvents)
    transactions: int = 0
    asked_at: list[datetime] = field(default_factory=list)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        self.transactions += 1
        yield

    async def expire_due_holds(self, *, now: datetime, limit: int) -> list[Ticket]:
        self.asked_at.append(now)
        batch, self.due = self.due[:limit], self.due[limit:]
        return [a_ticket(ticket_id, status=TicketStatus.EXPIRED) for ticket_id in batch]

    def store(self) -> Any:
        @asynccontextmanager
        async def open_store() -> AsyncIterator["FakeHolds"]:
            yield self

        return open_store


async def test_due_holds_expire_in_one_transaction_each_with_ticket_expired() -> None:
    holds = FakeHolds(due=["t-1", "t-2"])
    assert await expire_unpaid_holds(holds.store(), batch_size=10, now=NOW) == 2
    assert holds.events.emitted == [("ticket.expired", "t-1"), ("ticket.expired", "t-2")]
    assert holds.transactions == 1
    assert holds.asked_at == [NOW]


async def test_a_batch_takes_at_most_batch_size_and_the_rest_waits() -> None:
    holds = FakeHolds(due=["t-1", "t-2", "t-3"])
    assert await expire_unpaid_holds(holds.store(), batch_size=2, now=NOW) == 2
    assert holds.due == ["t-3"]
    assert await expire_unpaid_holds(holds.store(), batch_size=2, now=NOW) == 1
    assert len(holds.events.emitted) == 3


async def test_nothing_due_writes_nothing() -> None:
    holds = FakeHolds(due=[])
    assert await expire_unpaid_holds(holds.store(), batch_size=2, now=NOW) == 0
    assert holds.events.emitted == []
