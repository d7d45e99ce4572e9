"""Taking a waiting-list offer: its held seats become an order's hold, paid through Snap.

The seats are never released in between: the offer's hold is handed to the order's tickets in
the transaction that marks the offer accepted, under the offer's row lock, so the offer maker's
expiry (a conditional UPDATE on open offers) and a second accept both find it taken.
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

from ticket_service.domain.waitlist import (
    OfferNotFound,
    OfferNotOpen,
    OfferOrder,
    OfferStatus,
    WaitlistOffer,
)
from ticket_service.service_layer.checkout import (
    PaymentOpener,
    held_tickets_payment,
    open_payment_or_compensate,
)
from ticket_service.service_layer.ports import TicketEvents, Transactional

logger = logging.getLogger(__name__)


class OfferAcceptanceStore(Transactional, Protocol):
    @property
    def events(self) -> TicketEvents: ...

    async def lock_offer(self, offer_id: str) -> WaitlistOffer | None: ...

    async def hold_for_offer(
        self, offer: WaitlistOffer, *, hold_expires_at: datetime | None, now: datetime
    ) -> OfferOrder:
        """The order and its tickets on the offer's seats (sold at once when free); offer taken."""

    async def order_of(self, offer: WaitlistOffer) -> OfferOrder | None:
        """The order an accepted offer became."""

    async def reopen_offer(self, offer: WaitlistOffer, *, now: datetime) -> OfferOrder | None:
        """The payment could not open: the order expires, its seats go back to the offer."""

    async def record_opened_payment(self, order: OfferOrder, opened: OpenedPayment) -> None: ...


@dataclass(frozen=True)
class AcceptanceDeps:
    store: Callable[[], AbstractAsyncContextManager[OfferAcceptanceStore]]
    payments: PaymentOpener
    hold_minutes: float
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


@dataclass(frozen=True)
class Accepted:
    order: OfferOrder
    payment: OpenedPayment | None
    created: bool = True
    """False for a retried accept: the order as it stands."""


async def accept_offer(offer_id: str, *, user_id: str, deps: AcceptanceDeps) -> Accepted:
    now = deps.clock()
    async with deps.store() as store, store.transaction():
        offer = await store.lock_offer(offer_id)
        if offer is None or offer.user_id != user_id:
            raise OfferNotFound("You have no waiting-list offer with this id.")
        if offer.status == OfferStatus.ACCEPTED:
            existing = await store.order_of(offer)
            assert existing is not None
            return Accepted(existing, payment=None, created=False)
        if not offer.is_open_at(now):
            raise OfferNotOpen(
                "This offer is no longer open.",
                details={"status": offer.status.value, "expires_at": offer.expires_at.isoformat()},
            )
        free = offer.price == 0
        hold_ends = None if free else now + timedelta(minutes=deps.hold_minutes)
        order = await store.hold_for_offer(offer, hold_expires_at=hold_ends, now=now)
        if free:
            for ticket in order.tickets:
                await store.events.activated(ticket, at=now)
            return Accepted(order, payment=None)

    opened = await _open_payment(deps, order)
    async with deps.store() as store, store.transaction():
        await store.record_opened_payment(order, opened)
    return Accepted(order, payment=opened)


def offer_payment_request(order: OfferOrder) -> OpenPaymentRequest:
    """What payment-service needs to open the order's Midtrans payment."""
    first = order.first
    return held_tickets_payment(
        order.tickets,
        amount=order.total,
        customer=PaymentCustomer(
            name=first.holder_name, email=first.holder_email, phone=first.holder_phone
        ),
        item=PaymentItem(
            id=order.offer.ticket_type_id,
            name=f"{first.event.title[:30]} {order.ticket_type_name}"[:50],
            price=order.offer.price,
            quantity=order.offer.seats,
        ),
        purchase_order_id=order.purchase_order_id,
    )


async def _open_payment(deps: AcceptanceDeps, order: OfferOrder) -> OpenedPayment:
    async def reopen(reason: str) -> None:
        await _reopen(deps, order.offer, reason=reason)

    return await open_payment_or_compensate(
        deps.payments,
        offer_payment_request(order),
        compensate=reopen,
        unavailable="Payments are unavailable right now; the offer stays yours until it expires.",
    )


async def _reopen(deps: AcceptanceDeps, offer: WaitlistOffer, *, reason: str) -> None:
    """The seats stay held for the offer (never on sale) and the user may accept again."""
    now = deps.clock()
    async with deps.store() as store, store.transaction():
        expired = await store.reopen_offer(offer, now=now)
        # payment-service voids any Midtrans order it may have half-opened.
        for ticket in expired.tickets if expired else []:
            await store.events.expired(ticket, at=now)
    logger.warning(
        "reopened a waiting-list offer whose payment could not be opened",
        extra=log_fields(offer_id=offer.id, reason=reason),
    )
