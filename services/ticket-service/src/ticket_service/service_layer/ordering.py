"""Placing an order: every ticket held in one statement, one payment opened, answered once per key.

1. (At the edge) an Idempotency-Key already answered gets its first answer back.
2. The rate limit counts the attempt (the same 5 a minute as single purchases).
3. The hold: one statement in PostgreSQL checks and takes everything (see
   migrations/0014_hold_order.sql), so its row locks never wait on this process. A free order
   (a 100 % promo) is active at once; its activation events are written in the same transaction.
4. Paid: payment-service opens one Midtrans payment for the order. If it cannot, the whole
   order is released in a compensating transaction. A crash between 3 and 4 leaves pending
   tickets that the hold sweeper expires.
"""

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from servicekit.logs import log_fields
from ticketing_contracts.internal_payments import (
    OpenedPayment,
    OpenPaymentRequest,
    PaymentCustomer,
    PaymentItem,
    PaymentMetadata,
)

from ticket_service.domain.entities import Ticket
from ticket_service.domain.errors import PurchaseInProgress
from ticket_service.domain.orders import Attendee, InvalidOrder, Order, OrderItem, OrderNotFound
from ticket_service.domain.purchases import (
    PurchaseRequest,
    request_fingerprint,
    same_earlier_request,
)
from ticket_service.service_layer.checkout import (
    PaymentOpener,
    RateLimiter,
    SoldOutMemory,
    count_purchase_attempt,
    noting_sold_out,
    open_payment_or_compensate,
    refuse_known_sold_out,
)
from ticket_service.service_layer.ports import Transactional

logger = logging.getLogger(__name__)

KEY_REUSED = "This Idempotency-Key was used for a different order; use a new key."


@dataclass(frozen=True)
class PlaceOrder:
    buyer_id: str
    event_id: str
    items: tuple[OrderItem, ...]
    attendees: tuple[Attendee, ...]
    customer_name: str
    customer_email: str
    customer_phone: str | None
    promo_code: str | None = None
    idempotency_key: str | None = None

    @property
    def size(self) -> int:
        return sum(item.quantity for item in self.items)

    def fingerprint(self) -> str:
        return request_fingerprint(self)

    def check_shape(self) -> None:
        """Attendees are optional, or one per ticket; a type appears once."""
        if self.attendees and len(self.attendees) != self.size:
            raise InvalidOrder(
                f"Send one attendee per ticket ({self.size}), or none.",
                details={"tickets": self.size, "attendees": len(self.attendees)},
            )
        type_ids = [item.ticket_type_id for item in self.items]
        if len(set(type_ids)) != len(type_ids):
            raise InvalidOrder("List each ticket type once, with its quantity.")


@dataclass(frozen=True)
class Held:
    order_id: str
    free: bool


@dataclass(frozen=True)
class KeyTaken:
    """Another request with this key got there first."""


class OrderStore(Transactional, Protocol):
    async def may_be_free(self, cmd: PlaceOrder) -> bool:
        """True when a promo code or a type priced 0 could make the order free."""

    async def hold(self, cmd: PlaceOrder, *, now: datetime) -> Held | KeyTaken:
        """The one-statement hold; raises the refusal that stopped it."""

    async def find_request(self, buyer_id: str, key: str) -> PurchaseRequest | None: ...

    async def forget_request(self, buyer_id: str, key: str) -> None: ...

    async def order(self, order_id: str) -> Order | None: ...

    async def tickets(self, order_id: str) -> list[Ticket]: ...

    async def announce_activated(self, order_id: str, *, at: datetime) -> None:
        """`ticket.activated` per ticket, then one `order.activated`."""

    async def record_opened_payment(self, order_id: str, opened: OpenedPayment) -> None: ...

    async def release(self, order_id: str, *, now: datetime) -> int:
        """Expire the order's pending tickets, free their seats, write `ticket.expired`."""


@dataclass(frozen=True)
class OrderDeps:
    store: Callable[[], AbstractAsyncContextManager[OrderStore]]
    payments: PaymentOpener
    limiter: RateLimiter
    sold_out: SoldOutMemory
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


@dataclass(frozen=True)
class Placed:
    order: Order
    tickets: list[Ticket]
    payment: OpenedPayment | None
    created: bool = True


@dataclass(frozen=True)
class OrderKeyAnswered:
    """The first request with this key answered while this one waited: replay its answer."""


async def place_order(cmd: PlaceOrder, *, deps: OrderDeps) -> Placed | OrderKeyAnswered:
    cmd.check_shape()
    refuse_known_sold_out(deps.sold_out, cmd.event_id, cmd.idempotency_key)
    await count_purchase_attempt(deps.limiter, cmd.buyer_id)
    now = deps.clock()
    resumed = False
    async with deps.store() as store:
        with noting_sold_out(deps.sold_out, cmd.event_id):
            held = await _hold(store, cmd, now)
        if isinstance(held, KeyTaken):
            resumed_id = await _resume(store, cmd)
            if resumed_id is None:
                return OrderKeyAnswered()
            order_id, resumed = resumed_id, True
        else:
            order_id = held.order_id
        order, tickets = await _read(store, order_id)
    if order.is_free or order.status != "pending":
        return Placed(order, tickets, payment=None, created=not resumed)
    opened = await _open_payment(order, tickets, cmd, deps, release_on_failure=not resumed)
    async with deps.store() as store:
        await store.record_opened_payment(order.id, opened)
        order, tickets = await _read(store, order.id)
    return Placed(order, tickets, payment=opened)


async def _hold(store: OrderStore, cmd: PlaceOrder, now: datetime) -> Held | KeyTaken:
    if not await store.may_be_free(cmd):
        return await store.hold(cmd, now=now)
    # A free order's activation events belong to the hold's transaction.
    async with store.transaction():
        held = await store.hold(cmd, now=now)
        if isinstance(held, Held) and held.free:
            await store.announce_activated(held.order_id, at=now)
    return held


async def _read(store: OrderStore, order_id: str) -> tuple[Order, list[Ticket]]:
    order = await store.order(order_id)
    if order is None:
        raise OrderNotFound("The order of this request is gone.")
    return order, await store.tickets(order_id)


async def _resume(store: OrderStore, cmd: PlaceOrder) -> str | None:
    """The order a first request with this key made; None when its answer is stored."""
    assert cmd.idempotency_key is not None
    earlier = same_earlier_request(
        await store.find_request(cmd.buyer_id, cmd.idempotency_key),
        cmd.fingerprint(),
        key_reused=KEY_REUSED,
    )
    if earlier.answered:
        return None
    if earlier.order_id is None:
        raise PurchaseInProgress("An order with this Idempotency-Key is still in progress.")
    return earlier.order_id


def payment_request(order: Order, tickets: list[Ticket]) -> OpenPaymentRequest:
    """One Midtrans payment: a line per type, the discount as a negative line, summing to total."""
    assert order.payment_order_id is not None
    assert order.hold_expires_at is not None
    items = [
        PaymentItem(
            id=line.ticket_type_id, name=line.name[:50], price=line.price, quantity=line.quantity
        )
        for line in order.lines
    ]
    if order.discount:
        name = f"Promo {order.promo_code}" if order.promo_code else "Discount"
        items.append(PaymentItem(id="discount", name=name[:50], price=-order.discount, quantity=1))
    first = tickets[0]
    return OpenPaymentRequest(
        order_id=order.payment_order_id,
        amount=order.total,
        currency=order.currency,
        customer=PaymentCustomer(
            name=order.customer_name, email=order.customer_email, phone=order.customer_phone
        ),
        items=items,
        expires_at=order.hold_expires_at,
        metadata=PaymentMetadata(
            ticket_id=first.id,
            event_id=order.event_id,
            user_id=order.buyer_id,
            event_title=order.event_title,
            event_starts_at=order.event_starts_at,
            purchase_order_id=order.id,
            ticket_ids=[ticket.id for ticket in tickets],
        ),
    )


async def _open_payment(
    order: Order,
    tickets: list[Ticket],
    cmd: PlaceOrder,
    deps: OrderDeps,
    *,
    release_on_failure: bool,
) -> OpenedPayment:
    async def release(reason: str) -> None:
        await release_order(order.id, cmd=cmd, deps=deps, reason=reason)

    released = "; your seats were released" if release_on_failure else ""
    return await open_payment_or_compensate(
        deps.payments,
        payment_request(order, tickets),
        compensate=release if release_on_failure else None,
        unavailable=f"Payments are unavailable right now{released}. Please retry shortly.",
    )


async def release_order(order_id: str, *, cmd: PlaceOrder, deps: OrderDeps, reason: str) -> None:
    """Compensate an order whose payment could not be opened: every seat goes back on sale."""
    now = deps.clock()
    async with deps.store() as store, store.transaction():
        await store.release(order_id, now=now)
        if cmd.idempotency_key is not None:
            await store.forget_request(cmd.buyer_id, cmd.idempotency_key)
    logger.warning(
        "released an order whose payment could not be opened",
        extra=log_fields(purchase_order_id=order_id, reason=reason),
    )
