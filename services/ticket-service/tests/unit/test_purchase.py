"""Buying a ticket on in-memory fakes of its ports: hold, pay, release, resume, refuse."""

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from fakes import EVENT_ID, NOW, FakeLimiter, FakePayments, FakeTicketEvents, a_ticket
from ticket_service.adapters.sold_out_memory import RecentlySoldOut
from ticket_service.domain.entities import PaymentLink, Ticket, TicketedEvent
from ticket_service.domain.errors import (
    EventNotFound,
    IdempotencyKeyReused,
    PaymentRefused,
    PaymentServiceRefused,
    PaymentServiceUnavailable,
    PaymentUnavailable,
    PerUserLimitReached,
    PriceMismatch,
    PurchaseInProgress,
    PurchaseRateLimited,
    SalesClosed,
    SoldOut,
)
from ticket_service.domain.purchases import NewTicket, PaidSeat, PurchaseRequest
from ticket_service.domain.tickets import TicketStatus
from ticket_service.service_layer.purchase import (
    KeyAnswered,
    Purchased,
    PurchaseDeps,
    PurchaseTicket,
    purchase_ticket,
)
from ticketing_contracts.internal_payments import OpenedPayment


def an_event(**overrides: Any) -> TicketedEvent:
    fields: dict[str, Any] = {
        "id": EVENT_ID,
        "host_id": "host-1",
        "title": "Jazz di Taman Menteng",
        "venue": "Taman Menteng",
        "starts_at": NOW + timedelta(days=10),
        "price": 150_000,
        "currency": "IDR",
        "capacity": 2,
        "sold": 0,
        "held": 0,
        "sales_start": None,
        "sales_end": None,
        "max_per_user": None,
        "created_at": NOW,
        "updated_at": NOW,
    }
    return TicketedEvent(**{**fields, **overrides})


@dataclass
class FakePurchases:
    """The events, tickets and Idempotency-Keys of one database, and its outbox."""

    event: TicketedEvent | None = field(default_factory=an_event)
    tickets: dict[str, Ticket] = field(default_factory=dict)
    requests: dict[tuple[str, str], PurchaseRequest] = field(default_factory=dict)
    events: FakeTicketEvents = field(default_factory=FakeTicketEvents)
    transactions: int = 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        self.transactions += 1
        yield

    async def find_request(self, buyer_id: str, key: str) -> PurchaseRequest | None:
        return self.requests.get((buyer_id, key))

    async def claim_request(self, buyer_id: str, key: str, fingerprint: str) -> bool:
        if (buyer_id, key) in self.requests:
            return False
        self.requests[(buyer_id, key)] = PurchaseRequest(fingerprint, None, answered=False)
        return True

    async def attach_ticket(self, buyer_id: str, key: str, ticket_id: str) -> None:
        request = self.requests[(buyer_id, key)]
        self.requests[(buyer_id, key)] = dataclasses.replace(request, ticket_id=ticket_id)

    async def forget_request(self, buyer_id: str, key: str) -> None:
        self.requests.pop((buyer_id, key), None)

    async def lock_event(self, event_id: str) -> TicketedEvent | None:
        return self.event if self.event and self.event.id == event_id else None

    async def seats_of_buyer(self, event_id: str, buyer_id: str) -> int:
        taking = {TicketStatus.PENDING, TicketStatus.ACTIVE}
        return sum(t.user_id == buyer_id and t.status in taking for t in self.tickets.values())

    async def hold_seat(self, new: NewTicket) -> Ticket:
        assert self.event is not None
        free = new.event.is_free
        self.event = dataclasses.replace(
            self.event, sold=self.event.sold + free, held=self.event.held + (not free)
        )
        assert self.event.sold + self.event.held <= self.event.capacity
        ticket_id = f"00000000-0000-0000-0000-{len(self.tickets):012d}"
        ticket = a_ticket(
            ticket_id,
            user_id=new.buyer_id,
            price_paid=new.event.price,
            status=TicketStatus.ACTIVE if free else TicketStatus.PENDING,
            holder_name=new.holder_name,
            hold_expires_at=new.hold_expires_at,
            activated_at=new.now if free else None,
        )
        self.tickets[ticket_id] = ticket
        return ticket

    async def hold_paid_seat(self, seat: PaidSeat) -> Ticket | None:
        """`hold_order`'s checks, all or nothing, as the one statement makes them."""
        key = seat.idempotency_key
        if key is not None and (seat.buyer_id, key) in self.requests:
            return None
        event = self.event if self.event and self.event.id == seat.event_id else None
        if event is None:
            raise EventNotFound("No ticketed event with this id.")
        if seat.price != event.price:
            raise PriceMismatch(f"The price is {event.price}.")
        event.sale_window.check_open(seat.now)
        limit = event.max_per_user
        if limit is not None and await self.seats_of_buyer(event.id, seat.buyer_id) >= limit:
            raise PerUserLimitReached("limit")
        event.seats.check_free()
        ticket = await self.hold_seat(
            NewTicket(
                event=event,
                buyer_id=seat.buyer_id,
                holder_name=seat.holder_name,
                holder_email=seat.holder_email,
                holder_phone=seat.holder_phone,
                hold_expires_at=seat.now + timedelta(minutes=seat.hold_minutes),
                now=seat.now,
            )
        )
        if key is not None:
            self.requests[(seat.buyer_id, key)] = PurchaseRequest(
                seat.fingerprint, ticket.id, answered=False
            )
        return ticket

    async def ticket(self, ticket_id: str) -> Ticket | None:
        return self.tickets.get(ticket_id)

    async def release_hold(self, ticket_id: str, *, now: datetime) -> Ticket | None:
        ticket = self.tickets[ticket_id]
        if ticket.status != TicketStatus.PENDING:
            return None
        assert self.event is not None
        self.event = dataclasses.replace(self.event, held=self.event.held - 1)
        self.tickets[ticket_id] = dataclasses.replace(ticket, status=TicketStatus.EXPIRED)
        return self.tickets[ticket_id]

    async def record_opened_payment(self, ticket: Ticket, opened: OpenedPayment) -> Ticket:
        link = PaymentLink(
            opened.order_id, opened.snap_token, opened.redirect_url, opened.expires_at
        )
        self.tickets[ticket.id] = dataclasses.replace(self.tickets[ticket.id], payment_link=link)
        return self.tickets[ticket.id]

    def store(self) -> Any:
        @asynccontextmanager
        async def open_store() -> AsyncIterator["FakePurchases"]:
            yield self

        return open_store


def deps_of(
    store: FakePurchases,
    payments: FakePayments | None = None,
    limiter: FakeLimiter | None = None,
    sold_out: RecentlySoldOut | None = None,
) -> PurchaseDeps:
    return PurchaseDeps(
        store=store.store(),
        payments=payments or FakePayments(),
        limiter=limiter or FakeLimiter(),
        sold_out=sold_out or RecentlySoldOut(lambda: True),
        hold_minutes=15,
        clock=lambda: NOW,
    )


def a_purchase(**overrides: Any) -> PurchaseTicket:
    fields: dict[str, Any] = {
        "buyer_id": "user-7",
        "event_id": EVENT_ID,
        "customer_name": "Siti Rahma",
        "customer_email": "siti@example.id",
        "customer_phone": None,
        "amount": None,
    }
    return PurchaseTicket(**{**fields, **overrides})


async def test_a_paid_purchase_holds_the_seat_and_opens_the_payment_until_the_hold_ends() -> None:
    store, payments = FakePurchases(), FakePayments()
    outcome = await purchase_ticket(a_purchase(), deps=deps_of(store, payments))
    assert isinstance(outcome, Purchased)
    assert outcome.created
    assert outcome.ticket.status is TicketStatus.PENDING
    assert outcome.ticket.payment_link is not None
    assert outcome.payment is not None and outcome.payment.snap_token == "snap-1"
    assert store.event is not None and (store.event.held, store.event.sold) == (1, 0)
    [request] = payments.requests
    assert request.amount == 150_000
    assert request.expires_at == NOW + timedelta(minutes=15)
    assert request.metadata.ticket_id == outcome.ticket.id
    assert store.events.emitted == []


async def test_a_purchase_at_the_stated_price_holds_without_a_transaction_of_ours() -> None:
    """The flash sale's path: the hold is one statement, so no lock outlives a round trip."""
    store, payments = FakePurchases(), FakePayments()
    outcome = await purchase_ticket(a_purchase(amount=150_000), deps=deps_of(store, payments))
    assert isinstance(outcome, Purchased)
    assert outcome.ticket.status is TicketStatus.PENDING
    assert outcome.payment is not None
    assert store.transactions == 0
    assert store.event is not None and (store.event.held, store.event.sold) == (1, 0)


@pytest.mark.parametrize("amount", [None, 150_000])
async def test_a_paid_seat_is_held_once_per_key_either_way(amount: int | None) -> None:
    store = FakePurchases()
    first = await purchase_ticket(
        a_purchase(idempotency_key="k1", amount=amount), deps=deps_of(store)
    )
    again = await purchase_ticket(
        a_purchase(idempotency_key="k1", amount=amount), deps=deps_of(store)
    )
    assert isinstance(first, Purchased) and isinstance(again, Purchased)
    assert again.ticket.id == first.ticket.id
    assert store.event is not None and store.event.held == 1


async def test_a_free_purchase_is_active_at_once_without_a_payment() -> None:
    store, payments = FakePurchases(event=an_event(price=0)), FakePayments()
    outcome = await purchase_ticket(a_purchase(), deps=deps_of(store, payments))
    assert isinstance(outcome, Purchased)
    assert outcome.ticket.status is TicketStatus.ACTIVE
    assert outcome.payment is None
    assert payments.requests == []
    assert store.event is not None and (store.event.held, store.event.sold) == (0, 1)
    assert store.events.emitted == [("ticket.activated", outcome.ticket.id)]


async def test_the_last_seat_is_sold_once() -> None:
    store = FakePurchases(event=an_event(capacity=1))
    await purchase_ticket(a_purchase(), deps=deps_of(store))
    with pytest.raises(SoldOut):
        await purchase_ticket(a_purchase(buyer_id="user-8"), deps=deps_of(store))


@pytest.mark.parametrize("amount", [None, 150_000])
async def test_an_event_found_full_refuses_its_next_keyless_buyers_from_memory(
    amount: int | None,
) -> None:
    store, memory = FakePurchases(event=an_event(capacity=1)), RecentlySoldOut(lambda: True)
    await purchase_ticket(a_purchase(amount=amount), deps=deps_of(store, sold_out=memory))
    with pytest.raises(SoldOut) as found:
        await purchase_ticket(
            a_purchase(buyer_id="u8", amount=amount), deps=deps_of(store, sold_out=memory)
        )
    assert store.event is not None
    # A seat the memory has not heard of (no NOTIFY): the next keyless buyer never reaches it.
    store.event = dataclasses.replace(store.event, capacity=2)
    limiter = FakeLimiter()

    with pytest.raises(SoldOut) as refused:
        await purchase_ticket(
            a_purchase(buyer_id="u9", amount=amount),
            deps=deps_of(store, limiter=limiter, sold_out=memory),
        )

    assert (str(refused.value), refused.value.details) == (str(found.value), found.value.details)
    assert limiter.attempts == 0 and len(store.tickets) == 1
    # A keyed purchase may be one still in flight, to be resumed: it goes on to the hold.
    keyed = await purchase_ticket(
        a_purchase(buyer_id="u9", amount=amount, idempotency_key="k9"),
        deps=deps_of(store, limiter=limiter, sold_out=memory),
    )
    assert isinstance(keyed, Purchased) and limiter.attempts == 1


async def test_seats_coming_back_end_the_memory_even_during_a_hold() -> None:
    store, memory = FakePurchases(event=an_event(capacity=1)), RecentlySoldOut(lambda: True)
    await purchase_ticket(a_purchase(), deps=deps_of(store, sold_out=memory))
    with pytest.raises(SoldOut):
        await purchase_ticket(a_purchase(buyer_id="u8"), deps=deps_of(store, sold_out=memory))
    assert store.event is not None
    store.event = dataclasses.replace(store.event, capacity=2)
    memory.seats_came_back(EVENT_ID)
    second = await purchase_ticket(a_purchase(buyer_id="u8"), deps=deps_of(store, sold_out=memory))
    assert isinstance(second, Purchased)

    class SeatBackDuringTheHold(FakePurchases):
        async def lock_event(self, event_id: str) -> TicketedEvent | None:
            memory.seats_came_back(event_id)  # a NOTIFY read while the hold's statement ran
            return await super().lock_event(event_id)

    racing = SeatBackDuringTheHold(event=store.event)
    with pytest.raises(SoldOut):
        await purchase_ticket(a_purchase(buyer_id="u9"), deps=deps_of(racing, sold_out=memory))
    assert memory.recall(EVENT_ID) is None


@pytest.mark.parametrize(
    ("event", "purchase", "refusal"),
    [
        (None, a_purchase(), EventNotFound),
        (an_event(), a_purchase(amount=1), PriceMismatch),
        (an_event(sales_end=NOW), a_purchase(), SalesClosed),
    ],
)
async def test_refusals_hold_nothing(
    event: TicketedEvent | None, purchase: PurchaseTicket, refusal: type[Exception]
) -> None:
    store = FakePurchases(event=event)
    with pytest.raises(refusal):
        await purchase_ticket(purchase, deps=deps_of(store))
    assert store.tickets == {}


async def test_the_per_user_limit_counts_the_buyers_holds() -> None:
    store = FakePurchases(event=an_event(max_per_user=1))
    await purchase_ticket(a_purchase(), deps=deps_of(store))
    with pytest.raises(PerUserLimitReached):
        await purchase_ticket(a_purchase(), deps=deps_of(store))


async def test_the_rate_limit_refuses_with_retry_after() -> None:
    store = FakePurchases()
    with pytest.raises(PurchaseRateLimited) as refused:
        await purchase_ticket(a_purchase(), deps=deps_of(store, limiter=FakeLimiter(False)))
    assert refused.value.headers == {"Retry-After": "42"}
    assert store.tickets == {}


async def test_payments_unavailable_release_the_hold_and_forget_the_key() -> None:
    store = FakePurchases()
    payments = FakePayments(failure=PaymentServiceUnavailable("down"))
    with pytest.raises(PaymentUnavailable) as refused:
        await purchase_ticket(a_purchase(idempotency_key="k1"), deps=deps_of(store, payments))
    assert refused.value.headers == {"Retry-After": "5"}
    [ticket] = store.tickets.values()
    assert ticket.status is TicketStatus.EXPIRED
    assert store.event is not None and store.event.held == 0
    assert store.events.emitted == [("ticket.expired", ticket.id)]
    assert store.requests == {}


async def test_a_refused_payment_releases_the_hold_and_says_why() -> None:
    store = FakePurchases()
    payments = FakePayments(failure=PaymentServiceRefused("no", 502, "midtrans_refused"))
    with pytest.raises(PaymentRefused) as refused:
        await purchase_ticket(a_purchase(), deps=deps_of(store, payments))
    assert refused.value.details == {"payment_error": "midtrans_refused"}
    assert store.event is not None and store.event.held == 0


async def test_a_retry_waiting_on_the_key_resumes_the_same_hold() -> None:
    store = FakePurchases()
    first = await purchase_ticket(a_purchase(idempotency_key="k1"), deps=deps_of(store))
    again = await purchase_ticket(a_purchase(idempotency_key="k1"), deps=deps_of(store))
    assert isinstance(first, Purchased) and isinstance(again, Purchased)
    assert again.ticket.id == first.ticket.id
    assert len(store.tickets) == 1
    assert store.event is not None and store.event.held == 1


async def test_a_resumed_retry_that_cannot_pay_leaves_the_first_hold_alone() -> None:
    store = FakePurchases()
    await purchase_ticket(a_purchase(idempotency_key="k1"), deps=deps_of(store))
    down = FakePayments(failure=PaymentServiceUnavailable("down"))
    with pytest.raises(PaymentUnavailable):
        await purchase_ticket(a_purchase(idempotency_key="k1"), deps=deps_of(store, down))
    [ticket] = store.tickets.values()
    assert ticket.status is TicketStatus.PENDING
    assert store.event is not None and store.event.held == 1


async def test_a_retry_of_an_answered_key_replays_the_first_answer() -> None:
    store = FakePurchases()
    first = a_purchase(idempotency_key="k1")
    store.requests[("user-7", "k1")] = PurchaseRequest(first.fingerprint(), "t", answered=True)
    assert isinstance(await purchase_ticket(first, deps=deps_of(store)), KeyAnswered)
    assert store.tickets == {}


async def test_a_key_reused_for_another_purchase_is_refused() -> None:
    store = FakePurchases()
    await purchase_ticket(a_purchase(idempotency_key="k1"), deps=deps_of(store))
    with pytest.raises(IdempotencyKeyReused):
        await purchase_ticket(a_purchase(idempotency_key="k1", amount=1), deps=deps_of(store))


async def test_a_key_whose_first_request_is_still_holding_is_in_progress() -> None:
    store = FakePurchases()
    first = a_purchase(idempotency_key="k1")
    store.requests[("user-7", "k1")] = PurchaseRequest(first.fingerprint(), None, answered=False)
    with pytest.raises(PurchaseInProgress):
        await purchase_ticket(first, deps=deps_of(store))


async def test_a_retried_key_whose_ticket_moved_on_shows_where_it_stands() -> None:
    store = FakePurchases()
    first = await purchase_ticket(a_purchase(idempotency_key="k1"), deps=deps_of(store))
    assert isinstance(first, Purchased)
    store.tickets[first.ticket.id] = dataclasses.replace(first.ticket, status=TicketStatus.ACTIVE)
    again = await purchase_ticket(a_purchase(idempotency_key="k1"), deps=deps_of(store))
    assert isinstance(again, Purchased)
    assert not again.created
    assert again.payment is None
