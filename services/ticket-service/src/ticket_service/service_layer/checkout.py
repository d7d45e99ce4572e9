"""What every way of buying shares: the purchase rate limit and opening the Snap payment.

A ticket, an order and a waiting-list offer each hold seats first, then ask payment-service to
open one Midtrans payment; when it cannot, the use case's compensation runs before the refusal.
"""

from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol

from ticketing_contracts.internal_payments import (
    OpenedPayment,
    OpenPaymentRequest,
    PaymentCustomer,
    PaymentItem,
    PaymentMetadata,
)

from ticket_service.domain.entities import Ticket
from ticket_service.domain.errors import (
    PaymentRefused,
    PaymentServiceRefused,
    PaymentServiceUnavailable,
    PaymentUnavailable,
    PurchaseRateLimited,
    SoldOut,
)


class PaymentOpener(Protocol):
    async def open_payment(self, request: OpenPaymentRequest) -> OpenedPayment:
        """Raises PaymentServiceUnavailable or PaymentServiceRefused."""


class RateDecision(Protocol):
    @property
    def allowed(self) -> bool: ...

    @property
    def retry_after_seconds(self) -> int: ...


class RateLimiter(Protocol):
    async def attempt(self, key: str) -> RateDecision:
        """Count one attempt of `key` (the buyer) in the current window."""


class SoldOutMemory(Protocol):
    """Events this process found full a moment ago; a seat that comes back ends the memory."""

    def mark(self) -> int:
        """Taken before a hold: a seat that comes back after it voids what the hold finds."""

    def recall(self, event_id: str) -> SoldOut | None: ...

    def remember(self, event_id: str, refusal: SoldOut, *, mark: int) -> None: ...


def refuse_known_sold_out(memory: SoldOutMemory, event_id: str, key: str | None) -> None:
    """A keyless purchase of an event found full a moment ago is refused before anything else.

    A keyed one goes on to the hold: its key may be a purchase still in flight, to be resumed.
    """
    if key is None and (refusal := memory.recall(event_id)) is not None:
        raise refusal


@contextmanager
def noting_sold_out(memory: SoldOutMemory, event_id: str) -> Iterator[None]:
    """Around a hold: a refusal that finds the event full is remembered."""
    mark = memory.mark()
    try:
        yield
    except SoldOut as refusal:
        if refusal.event_is_full:
            memory.remember(event_id, refusal, mark=mark)
        raise


Compensation = Callable[[str], Awaitable[None]]
"""Undoes the hold when the payment cannot open; takes the reason it logs."""


async def count_purchase_attempt(limiter: RateLimiter, buyer_id: str) -> None:
    """Tickets, orders and offers share one budget per buyer; over it, 429 with Retry-After."""
    decision = await limiter.attempt(buyer_id)
    if not decision.allowed:
        raise PurchaseRateLimited(
            f"Too many purchase attempts; retry in {decision.retry_after_seconds} s.",
            headers={"Retry-After": str(decision.retry_after_seconds)},
            details={"retry_after_seconds": decision.retry_after_seconds},
        )


async def open_payment_or_compensate(
    payments: PaymentOpener,
    request: OpenPaymentRequest,
    *,
    compensate: Compensation | None,
    unavailable: str,
) -> OpenedPayment:
    """The opened payment; else `compensate` (when given) runs and the refusal is raised.

    `unavailable` is the 503's message: it tells the buyer what became of the seats.
    """
    try:
        return await payments.open_payment(request)
    except PaymentServiceUnavailable as exc:
        if compensate is not None:
            await compensate("payment_unavailable")
        raise PaymentUnavailable(unavailable, headers={"Retry-After": "5"}) from exc
    except PaymentServiceRefused as exc:
        if compensate is not None:
            await compensate("payment_refused")
        raise PaymentRefused(
            f"The payment could not be opened: {exc}", details={"payment_error": exc.code}
        ) from exc


def held_tickets_payment(
    tickets: Sequence[Ticket],
    *,
    amount: int,
    customer: PaymentCustomer,
    item: PaymentItem,
    purchase_order_id: str | None,
) -> OpenPaymentRequest:
    """One Midtrans payment of one line for held tickets, named and timed by the first of them."""
    first = tickets[0]
    assert first.order_id is not None
    assert first.hold_expires_at is not None
    return OpenPaymentRequest(
        order_id=first.order_id,
        amount=amount,
        currency=first.currency,
        customer=customer,
        items=[item],
        expires_at=first.hold_expires_at,
        metadata=PaymentMetadata(
            ticket_id=first.id,
            event_id=first.event_id,
            user_id=first.user_id,
            event_title=first.event.title,
            event_starts_at=first.event.starts_at,
            purchase_order_id=purchase_order_id,
            ticket_ids=[ticket.id for ticket in tickets],
        ),
    )
