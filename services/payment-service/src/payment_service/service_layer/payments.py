"""Opening a payment (a Snap transaction), handing its token to the owner, and reading its state."""

import logging
from collections.abc import Awaitable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from servicekit.rate_limit import RateDecision

from payment_service.domain.errors import (
    AmountMismatch,
    OrderConflict,
    PaymentClosed,
    PaymentNotFound,
    RateLimited,
)
from payment_service.domain.gateway_calls import (
    IssuedToken,
    MidtransError,
    MidtransRefused,
    TransactionNotFound,
)
from payment_service.domain.model import is_open
from payment_service.domain.payment import Payment, PaymentRequest, order_tickets
from payment_service.domain.refunds import Refund
from payment_service.domain.snap import (
    Customer,
    HoldExpired,
    Item,
    ensure_session_possible,
    needs_new_token,
    snap_request,
)
from payment_service.service_layer.gateway_sync import apply_gateway_body
from payment_service.service_layer.ports import PaymentDeps, PaymentWork
from payment_service.service_layer.refunds import refunds_of_order

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OpenPayment:
    """The internal request of ticket-service: open (or find) the payment of one order."""

    order_id: str
    amount: int
    currency: str
    customer: Customer
    items: list[Item]
    expires_at: datetime
    user_id: str
    ticket_id: str
    event_id: str
    metadata: dict[str, Any]
    purchase_order_id: str | None = None  # ticket-service's order of one or more tickets
    ticket_ids: tuple[str, ...] = ()  # every ticket of the order, `ticket_id` first


@dataclass(frozen=True)
class OpenedPayment:
    payment: Payment
    opened: bool  # False: the order's payment was already open (the same answer again)


async def open_payment(deps: PaymentDeps, cmd: OpenPayment) -> OpenedPayment:
    """The payment of `cmd.order_id` with a Snap token, and whether this call opened it.

    The same order twice returns the same payment: the row is inserted first and locked while
    Midtrans is asked, so concurrent requests wait for the first and find its token.
    """
    request = _request(cmd)
    async with deps.works() as work:
        try:
            ensure_session_possible(cmd.expires_at, datetime.now(UTC))
        except HoldExpired:
            # Refused before anything is stored: a payment that never existed needs no closing.
            # One that exists is answered as it stands (its token, or the refusal to open).
            if await work.payment(cmd.order_id) is None:
                raise
        async with work.transaction():
            # A new row is locked by its insert; a concurrent open of the order waits on it.
            payment = await work.insert_new(request) or await work.payment(cmd.order_id, lock=True)
            assert payment is not None
            _check_same_order(payment, cmd)
            if payment.snap_token is not None:
                return OpenedPayment(payment, opened=False)
            if payment.amount != cmd.amount or payment.expires_at != cmd.expires_at:
                await work.replace_unopened_request(request)
                payment = await work.payment(cmd.order_id)
                assert payment is not None
            issued = await _issue_snap_token(work, deps, payment, reason="payment opened")
        if isinstance(issued, MidtransError):
            await work.record_gateway_call(issued.answer, order_id=cmd.order_id, source="api")
            raise issued
    return OpenedPayment(issued, opened=True)


def _request(cmd: OpenPayment) -> PaymentRequest:
    customer = {"name": cmd.customer.name, "email": cmd.customer.email, "phone": cmd.customer.phone}
    metadata = {
        **cmd.metadata,
        "ticket_id": cmd.ticket_id,
        "event_id": cmd.event_id,
        "user_id": cmd.user_id,
    }
    return PaymentRequest(
        order_id=cmd.order_id,
        amount=cmd.amount,
        currency=cmd.currency,
        user_id=cmd.user_id,
        ticket_id=cmd.ticket_id,
        event_id=cmd.event_id,
        customer=customer,
        items=[asdict(i) for i in cmd.items],
        metadata=metadata,
        expires_at=cmd.expires_at,
        purchase_order_id=cmd.purchase_order_id,
        ticket_ids=order_tickets(cmd.ticket_id, cmd.ticket_ids),
    )


def _check_same_order(payment: Payment, cmd: OpenPayment) -> None:
    if payment.user_id != cmd.user_id or payment.ticket_id != cmd.ticket_id:
        raise OrderConflict(f"Order {cmd.order_id} belongs to another user or ticket.")
    if payment.purchase_order_id != cmd.purchase_order_id or (
        payment.snap_token is not None
        and payment.tickets != order_tickets(cmd.ticket_id, cmd.ticket_ids)
    ):
        raise OrderConflict(f"Order {cmd.order_id} pays for another order or other tickets.")
    if payment.snap_token is not None and payment.amount != cmd.amount:
        raise OrderConflict(
            f"Order {cmd.order_id} was opened for {payment.amount} IDR, not {cmd.amount}."
        )


async def _issue_snap_token(
    work: PaymentWork, deps: PaymentDeps, payment: Payment, *, reason: str
) -> Payment | MidtransError:
    """Ask Snap for a session ending with the hold; store the token. Returns the payment with
    its token, or Midtrans' refusal.

    Runs under the payment's row lock. A failure is returned, not raised, so the caller can
    leave the transaction and record the failed call where it will not be rolled back.
    """
    now = datetime.now(UTC)
    session = snap_request(
        order_id=payment.order_id,
        amount=payment.amount,
        customer=Customer(**payment.customer),
        items=[Item(**i) for i in payment.items],
        hold_ends_at=payment.expires_at,
        now=now,
        max_page_minutes=deps.settings.snap_page_max_minutes,
    )
    try:
        snap = await deps.midtrans.create_snap_transaction(session.body)
    except MidtransError as exc:
        return exc
    page_ends = session.token_expires_at
    return await work.record_issued_token(
        payment.order_id,
        IssuedToken(
            token=snap.token,
            redirect_url=snap.redirect_url,
            expires_at=page_ends,
            answer=snap.answer,
            reason=f"{reason}: Snap token issued, page until {page_ends.isoformat()}",
        ),
    )


async def snap_token_for_owner(
    deps: PaymentDeps,
    *,
    order_id: str,
    amount: int,
    caller_id: str,
    event_id: str | None,
    user_id: str | None,
) -> Payment:
    """The seed's create-snap-token: the caller's own order, renewed if its page expired."""
    await _within_limit(deps.guards.snap_token.attempt(caller_id), "create-snap-token")
    async with deps.works() as work:
        payment = await work.payment(order_id)
        if payment is None or payment.user_id != caller_id or (user_id and user_id != caller_id):
            raise PaymentNotFound(f"No payment for order {order_id}.")
        if event_id and event_id != payment.event_id:
            raise OrderConflict(f"Order {order_id} is not for event {event_id}.")
        if amount != payment.amount:
            raise AmountMismatch(
                f"The amount {amount} differs from the order's amount {payment.amount} IDR."
            )
        if not is_open(payment.status):
            raise PaymentClosed(f"The payment of order {order_id} is {payment.status}.")
        now = datetime.now(UTC)
        if now >= payment.expires_at:
            raise HoldExpired("The seat hold of this order has ended.")
        if not needs_new_token(
            token=payment.snap_token,
            token_expires_at=payment.snap_token_expires_at,
            hold_ends_at=payment.expires_at,
            now=now,
        ):
            return payment
        async with work.transaction():
            locked = await work.payment(order_id, lock=True)
            assert locked is not None
            issued: Payment | MidtransError | None = None
            if needs_new_token(
                token=locked.snap_token,
                token_expires_at=locked.snap_token_expires_at,
                hold_ends_at=locked.expires_at,
                now=datetime.now(UTC),
            ):
                issued = await _issue_snap_token(work, deps, locked, reason="page renewed")
        if isinstance(issued, MidtransError):
            await work.record_gateway_call(issued.answer, order_id=order_id, source="api")
            if _transaction_exists(issued) and payment.snap_token is not None:
                # The customer already picked a method: Snap keeps that transaction, and the
                # old token still shows its payment instructions.
                return payment
            raise issued
        if issued is not None:
            return issued
        fresh = await work.payment(order_id)  # another request renewed it meanwhile
    assert fresh is not None
    return fresh


async def _within_limit(attempt: Awaitable[RateDecision], what: str) -> None:
    decision = await attempt
    if not decision.allowed:
        raise RateLimited(
            f"Too many {what} requests; retry in {decision.retry_after_seconds} s.",
            headers={"Retry-After": str(decision.retry_after_seconds)},
            details={"retry_after_seconds": decision.retry_after_seconds},
        )


def _transaction_exists(error: MidtransError) -> bool:
    if not isinstance(error, MidtransRefused):
        return False
    return any("already been taken" in m for m in error.details.get("error_messages", []))


@dataclass(frozen=True)
class PaymentView:
    payment: Payment
    midtrans: dict[str, Any] | None  # Midtrans' live answer (whole: the route filters it)
    refunds: list[Refund]  # the order's refunds, oldest first


async def payment_status(
    deps: PaymentDeps, *, order_id: str, caller_id: str, caller_is_admin: bool
) -> PaymentView:
    """Our state plus Midtrans' live answer, which is also applied (source `api`).

    Midtrans' answer is reused for `status_cache_seconds`, so a polling app (or a script) costs
    the merchant at most one status call per order per few seconds.
    """
    await _within_limit(deps.guards.status.attempt(caller_id), "status")
    payment, live = await _payment_and_live_status(
        deps, order_id=order_id, caller_id=caller_id, caller_is_admin=caller_is_admin
    )
    return PaymentView(payment, live, await refunds_of_order(deps.refund_works, order_id))


async def _payment_and_live_status(
    deps: PaymentDeps, *, order_id: str, caller_id: str, caller_is_admin: bool
) -> tuple[Payment, dict[str, Any] | None]:
    async with deps.works() as work:
        payment = await work.payment(order_id)
        if payment is None or not (caller_is_admin or payment.user_id == caller_id):
            raise PaymentNotFound(f"No payment for order {order_id}.")
        cached = await deps.guards.status_cache.get(order_id, payment.version)
        if cached is not None:
            return payment, cached
        try:
            # By order_id: after a declined card, the retry is a new Midtrans transaction.
            answer = await deps.midtrans.status(order_id)
        except TransactionNotFound:
            return payment, None
        except MidtransError as exc:
            logger.warning("live status unavailable for %s: %s", order_id, exc)
            await work.record_gateway_call(exc.answer, order_id=order_id, source="api")
            return payment, None
        live = answer.body
        if live is None:
            return payment, None
        async with work.transaction():
            await work.record_gateway_call(answer, order_id=order_id, source="api")
            locked = await work.payment(order_id, lock=True)
            assert locked is not None
            await apply_gateway_body(work, locked, live, source="api")
        applied = await work.payment(order_id) or payment
        # Under the version the answer left the payment at: the next poll finds it.
        await deps.guards.status_cache.put(order_id, applied.version, live)
        return applied, live
