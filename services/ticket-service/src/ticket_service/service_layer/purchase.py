"""Buying a ticket: hold a seat, open the payment, answer once per key.

1. (At the edge) an Idempotency-Key already answered gets its first answer back. A keyless
   purchase of an event this process found full a moment ago is refused here, from memory.
2. The rate limit counts the attempt.
3. The hold. A paid seat at the price the buyer saw (`amount`, as the app sends it) is one
   statement, `hold_order`: key, sale window, price, per-user limit and free seats are checked
   and the seat, ticket and transaction written inside PostgreSQL, so the event's row lock lives
   for microseconds and a sold-out answer takes none. Otherwise (a free event, no `amount`) one
   transaction locks the event, checks, holds (or sells, when free) and publishes.
4. Paid: payment-service opens the Midtrans payment. If it cannot, the hold is released in a
   compensating transaction and the caller gets 503 (or 502 when Midtrans refused). A crash
   between 3 and 4 leaves a pending ticket that the hold sweeper expires.
"""

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from servicekit.logs import log_fields
from ticketing_contracts.internal_payments import (
    OpenedPayment,
    OpenPaymentRequest,
    PaymentCustomer,
    PaymentItem,
)

from ticket_service.domain.entities import Ticket, TicketedEvent
from ticket_service.domain.errors import (
    EventNotFound,
    PerUserLimitReached,
    PriceMismatch,
    PurchaseInProgress,
    TicketNotFound,
)
from ticket_service.domain.purchases import (
    NewTicket,
    PaidSeat,
    PurchaseRequest,
    request_fingerprint,
    same_earlier_request,
)
from ticket_service.domain.tickets import TicketStatus
from ticket_service.service_layer.checkout import (
    PaymentOpener,
    RateLimiter,
    SoldOutMemory,
    count_purchase_attempt,
    held_tickets_payment,
    noting_sold_out,
    open_payment_or_compensate,
    refuse_known_sold_out,
)
from ticket_service.service_layer.ports import TicketEvents, Transactional

logger = logging.getLogger(__name__)

KEY_REUSED = "This Idempotency-Key was used for a different purchase; use a new key."


@dataclass(frozen=True)
class PurchaseTicket:
    buyer_id: str
    event_id: str
    customer_name: str
    customer_email: str
    customer_phone: str | None
    amount: int | None
    idempotency_key: str | None = None

    def fingerprint(self) -> str:
        return request_fingerprint(self)


class PurchaseStore(Transactional, Protocol):
    """One connection's worth of purchase work; the use case opens the transactions."""

    @property
    def events(self) -> TicketEvents: ...

    async def find_request(self, buyer_id: str, key: str) -> PurchaseRequest | None: ...

    async def claim_request(self, buyer_id: str, key: str, fingerprint: str) -> bool:
        """True when this is the key's first request; a concurrent first makes us wait for it."""

    async def attach_ticket(self, buyer_id: str, key: str, ticket_id: str) -> None: ...

    async def forget_request(self, buyer_id: str, key: str) -> None: ...

    async def lock_event(self, event_id: str) -> TicketedEvent | None: ...

    async def seats_of_buyer(self, event_id: str, buyer_id: str) -> int:
        """The buyer's pending and active tickets at the event."""

    async def hold_seat(self, new: NewTicket) -> Ticket:
        """Count the seat (held, or sold when free) and write the ticket and its transaction."""

    async def hold_paid_seat(self, seat: PaidSeat) -> Ticket | None:
        """Check and hold in one statement; None when the Idempotency-Key was already taken."""

    async def ticket(self, ticket_id: str) -> Ticket | None: ...

    async def release_hold(self, ticket_id: str, *, now: datetime) -> Ticket | None:
        """Expire a still-pending hold and free its seat; None when it is not pending."""

    async def record_opened_payment(self, ticket: Ticket, opened: OpenedPayment) -> Ticket:
        """The held `ticket` as it stands once its transaction records the opened payment."""


@dataclass(frozen=True)
class PurchaseDeps:
    store: Callable[[], AbstractAsyncContextManager[PurchaseStore]]
    payments: PaymentOpener
    limiter: RateLimiter
    sold_out: SoldOutMemory
    hold_minutes: float
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


@dataclass(frozen=True)
class Purchased:
    ticket: Ticket
    payment: OpenedPayment | None
    created: bool = True
    """False for a retried key whose ticket has moved on (paid, expired): where it stands."""


@dataclass(frozen=True)
class KeyAnswered:
    """The first request with this key answered while this one waited: replay its answer."""


PurchaseOutcome = Purchased | KeyAnswered


@dataclass(frozen=True)
class _Held:
    ticket: Ticket
    resumed: bool = False


async def purchase_ticket(cmd: PurchaseTicket, *, deps: PurchaseDeps) -> PurchaseOutcome:
    refuse_known_sold_out(deps.sold_out, cmd.event_id, cmd.idempotency_key)
    await count_purchase_attempt(deps.limiter, cmd.buyer_id)

    async with deps.store() as store:
        with noting_sold_out(deps.sold_out, cmd.event_id):
            held = await _hold_seat(store, cmd, deps)
        if isinstance(held, KeyAnswered):
            return held
        ticket = held.ticket
        if ticket.price_paid == 0:
            return Purchased(ticket, payment=None)
        if ticket.status != TicketStatus.PENDING:
            return Purchased(ticket, payment=None, created=False)

    # A retry that resumed someone else's hold leaves it alone on failure: the first request
    # (or the hold sweeper) owns its release.
    opened = await _open_payment(ticket, cmd, deps, release_on_failure=not held.resumed)
    async with deps.store() as store:
        ticket = await store.record_opened_payment(ticket, opened)
    return Purchased(ticket, payment=opened)


async def _hold_seat(
    store: PurchaseStore, cmd: PurchaseTicket, deps: PurchaseDeps
) -> _Held | KeyAnswered:
    now = deps.clock()
    if cmd.amount:
        return await _hold_paid_seat(store, cmd, deps, now)
    async with store.transaction():
        if cmd.idempotency_key is not None:
            first = await store.claim_request(cmd.buyer_id, cmd.idempotency_key, cmd.fingerprint())
            if not first:
                # Another request with this key committed its hold while we waited.
                return await _resume(store, cmd)

        event = await store.lock_event(cmd.event_id)
        if event is None:
            raise EventNotFound("No ticketed event with this id.")
        _check_price(event, cmd.amount)
        event.sale_window.check_open(now)
        await _check_per_user_limit(store, event, cmd.buyer_id)
        event.seats.check_free()

        hold_ends = None if event.is_free else now + timedelta(minutes=deps.hold_minutes)
        ticket = await store.hold_seat(
            NewTicket(
                event=event,
                buyer_id=cmd.buyer_id,
                holder_name=cmd.customer_name,
                holder_email=cmd.customer_email,
                holder_phone=cmd.customer_phone,
                hold_expires_at=hold_ends,
                now=now,
            )
        )
        if cmd.idempotency_key is not None:
            await store.attach_ticket(cmd.buyer_id, cmd.idempotency_key, ticket.id)
        if event.is_free:
            await store.events.activated(ticket, at=now)
        return _Held(ticket)


async def _hold_paid_seat(
    store: PurchaseStore, cmd: PurchaseTicket, deps: PurchaseDeps, now: datetime
) -> _Held | KeyAnswered:
    """The flash sale's path: a price other than the event's is refused, so it is never free."""
    assert cmd.amount
    ticket = await store.hold_paid_seat(
        PaidSeat(
            event_id=cmd.event_id,
            buyer_id=cmd.buyer_id,
            holder_name=cmd.customer_name,
            holder_email=cmd.customer_email,
            holder_phone=cmd.customer_phone,
            price=cmd.amount,
            hold_minutes=deps.hold_minutes,
            now=now,
            idempotency_key=cmd.idempotency_key,
            fingerprint=cmd.fingerprint(),
        )
    )
    if ticket is None:  # another request with this key committed its hold first
        return await _resume(store, cmd)
    return _Held(ticket)


def _check_price(event: TicketedEvent, amount: int | None) -> None:
    if amount is not None and amount != event.price:
        raise PriceMismatch(
            f"The price is {event.price} {event.currency}, not {amount}.",
            details={"price": event.price, "currency": event.currency},
        )


async def _check_per_user_limit(store: PurchaseStore, event: TicketedEvent, buyer_id: str) -> None:
    limit = event.max_per_user
    if limit is not None and await store.seats_of_buyer(event.id, buyer_id) >= limit:
        raise PerUserLimitReached(
            f"You already hold the {limit} ticket(s) allowed per person for this event.",
            details={"max_per_user": limit},
        )


async def _resume(store: PurchaseStore, cmd: PurchaseTicket) -> _Held | KeyAnswered:
    assert cmd.idempotency_key is not None
    earlier = same_earlier_request(
        await store.find_request(cmd.buyer_id, cmd.idempotency_key),
        cmd.fingerprint(),
        key_reused=KEY_REUSED,
    )
    if earlier.answered:
        return KeyAnswered()
    if earlier.ticket_id is None:
        raise PurchaseInProgress("A purchase with this Idempotency-Key is still in progress.")
    ticket = await store.ticket(earlier.ticket_id)
    if ticket is None:
        raise TicketNotFound("The ticket of this purchase is gone.")
    return _Held(ticket, resumed=True)


def payment_request(ticket: Ticket, cmd: PurchaseTicket) -> OpenPaymentRequest:
    """What payment-service needs to open the order's Midtrans payment."""
    return held_tickets_payment(
        [ticket],
        amount=ticket.price_paid,
        customer=PaymentCustomer(
            name=cmd.customer_name, email=cmd.customer_email, phone=cmd.customer_phone
        ),
        item=PaymentItem(
            id=ticket.event_id, name=ticket.event.title[:50], price=ticket.price_paid, quantity=1
        ),
        purchase_order_id=ticket.purchase_order_id,
    )


async def _open_payment(
    ticket: Ticket, cmd: PurchaseTicket, deps: PurchaseDeps, *, release_on_failure: bool
) -> OpenedPayment:
    async def release(reason: str) -> None:
        await release_hold(ticket.id, deps=deps, cmd=cmd, reason=reason)

    released = "; your seat was released" if release_on_failure else ""
    return await open_payment_or_compensate(
        deps.payments,
        payment_request(ticket, cmd),
        compensate=release if release_on_failure else None,
        unavailable=f"Payments are unavailable right now{released}. Please retry shortly.",
    )


async def release_hold(
    ticket_id: str, *, deps: PurchaseDeps, cmd: PurchaseTicket, reason: str
) -> None:
    """Compensate a hold whose payment could not be opened: the seat goes back on sale.

    The ticket ends `expired` and `ticket.expired` is published, so payment-service voids any
    Midtrans order it may have half-opened. The key is forgotten so a retry starts afresh.
    """
    now = deps.clock()
    async with deps.store() as store, store.transaction():
        released = await store.release_hold(ticket_id, now=now)
        if released is not None:
            await store.events.expired(released, at=now)
        if cmd.idempotency_key is not None:
            await store.forget_request(cmd.buyer_id, cmd.idempotency_key)
    logger.warning(
        "released the hold of a purchase whose payment could not be opened",
        extra=log_fields(ticket_id=ticket_id, reason=reason),
    )
