"""Buying a ticket: hold a seat in one transaction, open the payment, answer once per key.

1. An Idempotency-Key already answered gets its first answer back (no new attempt counted).
2. The Redis rate limit counts the attempt.
3. One transaction: the event row is locked (all purchases of the event queue on it), the sale
   window, price, per-user limit and free seats are checked, the seat is held (or sold, when
   free), the ticket and its transaction are written.
4. Paid: payment-service opens the Midtrans payment. If it cannot, the hold is released in a
   compensating transaction and the caller gets 503 (or 502 when Midtrans refused). A crash
   between 3 and 4 leaves a pending ticket that the hold sweeper expires.
"""

import hashlib
import json
import logging
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from servicekit.logs import log_fields
from servicekit.messaging import Outbox

from ticket_service.adapters import repository as repo
from ticket_service.adapters.payments import (
    PaymentClient,
    PaymentServiceRefused,
    PaymentServiceUnavailable,
)
from ticket_service.adapters.rate_limit import PurchaseRateLimiter
from ticket_service.domain.errors import (
    EventNotFound,
    IdempotencyKeyReused,
    PaymentRefused,
    PaymentUnavailable,
    PerUserLimitReached,
    PriceMismatch,
    PurchaseInProgress,
    PurchaseRateLimited,
    TicketNotFound,
)
from ticket_service.domain.ticketed_events import SaleWindow, Seats
from ticket_service.domain.tickets import TicketStatus, TransactionStatus, order_id_for
from ticket_service.service_layer import ticket_events
from ticket_service.service_layer.views import ticket_public
from ticket_service.settings import TicketSettings

logger = logging.getLogger(__name__)


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
        fields = asdict(self)
        fields.pop("idempotency_key")
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class PurchaseAnswer:
    status_code: int
    body: dict[str, Any]
    replayed: bool = False


@dataclass(frozen=True)
class PurchaseDeps:
    pool: asyncpg.Pool
    outbox: Outbox
    payments: PaymentClient
    limiter: PurchaseRateLimiter
    settings: TicketSettings


@dataclass(frozen=True)
class _Held:
    ticket_id: uuid.UUID
    free: bool
    resumed: bool = False


async def purchase_ticket(cmd: PurchaseTicket, *, deps: PurchaseDeps) -> PurchaseAnswer:
    key = cmd.idempotency_key
    if key is not None:
        async with deps.pool.acquire() as conn:
            earlier = await repo.find_purchase_request(conn, cmd.buyer_id, key)
        if earlier is not None:
            _same_request_or_refuse(earlier, cmd)
            if earlier["response_body"] is not None:
                return _replay(earlier)

    decision = await deps.limiter.attempt(cmd.buyer_id)
    if not decision.allowed:
        raise PurchaseRateLimited(
            f"Too many purchase attempts; retry in {decision.retry_after_seconds} s.",
            headers={"Retry-After": str(decision.retry_after_seconds)},
            details={"retry_after_seconds": decision.retry_after_seconds},
        )

    now = datetime.now(UTC)
    async with deps.pool.acquire() as conn:
        held = await _hold_seat(conn, cmd, deps, now)
        if isinstance(held, PurchaseAnswer):
            return held
        view = await repo.ticket_view(conn, held.ticket_id)
        assert view is not None
        if held.free:
            body = {"data": {**_ticket(view, deps), "payment": None}}
            return await _answer(conn, cmd, 201, body)
        if view["status"] != TicketStatus.PENDING:
            # A retried key whose ticket has moved on (paid, expired): show where it stands.
            return await _answer(conn, cmd, 200, {"data": {**_ticket(view, deps), "payment": None}})

    # A retry that resumed someone else's hold leaves it alone on failure: the first request
    # (or the hold sweeper) owns its release.
    payment = await _open_payment(view, cmd, deps, release_on_failure=not held.resumed)
    async with deps.pool.acquire() as conn:
        async with conn.transaction():
            await repo.record_opened_payment(
                conn,
                held.ticket_id,
                snap_token=payment["snap_token"],
                redirect_url=payment["redirect_url"],
                expires_at=datetime.fromisoformat(payment["expires_at"]),
                raw=payment["raw"],
            )
        view = await repo.ticket_view(conn, held.ticket_id)
        assert view is not None
        payment.pop("raw")
        body = {"data": {**_ticket(view, deps), "payment": payment}}
        return await _answer(conn, cmd, 201, body)


def _same_request_or_refuse(earlier: repo.Row, cmd: PurchaseTicket) -> None:
    if earlier["request_hash"] != cmd.fingerprint():
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used for a different purchase; use a new key."
        )


def _replay(earlier: repo.Row) -> PurchaseAnswer:
    return PurchaseAnswer(earlier["response_status"], earlier["response_body"], replayed=True)


def _ticket(view: repo.Row, deps: PurchaseDeps) -> dict[str, Any]:
    return ticket_public(view, qr_url_template=deps.settings.qr_url_template)


async def _answer(
    conn: asyncpg.Connection, cmd: PurchaseTicket, status: int, body: dict[str, Any]
) -> PurchaseAnswer:
    if cmd.idempotency_key is None:
        return PurchaseAnswer(status, body)
    stored = await repo.store_first_answer(conn, cmd.buyer_id, cmd.idempotency_key, status, body)
    return PurchaseAnswer(stored["response_status"], stored["response_body"])


async def _hold_seat(
    conn: asyncpg.Connection, cmd: PurchaseTicket, deps: PurchaseDeps, now: datetime
) -> _Held | PurchaseAnswer:
    async with conn.transaction():
        if cmd.idempotency_key is not None:
            first = await repo.claim_purchase_request(
                conn, cmd.buyer_id, cmd.idempotency_key, cmd.fingerprint()
            )
            if not first:
                # Another request with this key committed its hold while we waited.
                return await _resume(conn, cmd)

        event = await repo.lock_event(conn, cmd.event_id)
        if event is None:
            raise EventNotFound("No ticketed event with this id.")
        price: int = event["price"]
        if cmd.amount is not None and cmd.amount != price:
            raise PriceMismatch(
                f"The price is {price} {event['currency']}, not {cmd.amount}.",
                details={"price": price, "currency": event["currency"]},
            )
        SaleWindow(event["starts_at"], event["sales_start"], event["sales_end"]).check_open(now)
        limit = event["max_per_user"]
        if (
            limit is not None
            and await repo.count_user_seats(conn, cmd.event_id, cmd.buyer_id) >= limit
        ):
            raise PerUserLimitReached(
                f"You already hold the {limit} ticket(s) allowed per person for this event.",
                details={"max_per_user": limit},
            )
        Seats(event["capacity"], event["sold"], event["held"]).check_free()

        free = price == 0
        await repo.move_seats(conn, cmd.event_id, sold=1 if free else 0, held=0 if free else 1)
        hold_ends = None if free else now + timedelta(minutes=deps.settings.hold_minutes)
        ticket_id = await repo.insert_ticket(
            conn,
            event_id=cmd.event_id,
            user_id=cmd.buyer_id,
            price=price,
            currency=event["currency"],
            status=TicketStatus.ACTIVE if free else TicketStatus.PENDING,
            holder_name=cmd.customer_name,
            holder_email=cmd.customer_email,
            holder_phone=cmd.customer_phone,
            hold_expires_at=hold_ends,
            now=now,
        )
        await repo.insert_transaction(
            conn,
            ticket_id=ticket_id,
            user_id=cmd.buyer_id,
            event_id=cmd.event_id,
            order_id=order_id_for(str(ticket_id)),
            amount=price,
            currency=event["currency"],
            status=TransactionStatus.COMPLETED if free else TransactionStatus.PENDING,
            payment_method="free" if free else None,
            now=now,
        )
        if cmd.idempotency_key is not None:
            await repo.attach_ticket_to_request(conn, cmd.buyer_id, cmd.idempotency_key, ticket_id)
        if free:
            view = await repo.ticket_view(conn, ticket_id)
            assert view is not None
            await ticket_events.ticket_activated(
                conn, deps.outbox, view, deps.settings.signing_keys, now
            )
        return _Held(ticket_id=ticket_id, free=free)


async def _resume(conn: asyncpg.Connection, cmd: PurchaseTicket) -> _Held | PurchaseAnswer:
    assert cmd.idempotency_key is not None
    earlier = await repo.find_purchase_request(conn, cmd.buyer_id, cmd.idempotency_key)
    if earlier is None:  # the first attempt failed and forgot the key meanwhile
        raise PurchaseInProgress("The first request with this key just failed; retry it.")
    _same_request_or_refuse(earlier, cmd)
    if earlier["response_body"] is not None:
        return _replay(earlier)
    if earlier["ticket_id"] is None:
        raise PurchaseInProgress("A purchase with this Idempotency-Key is still in progress.")
    ticket = await repo.ticket_view(conn, earlier["ticket_id"])
    if ticket is None:
        raise TicketNotFound("The ticket of this purchase is gone.")
    return _Held(ticket_id=earlier["ticket_id"], free=ticket["price_paid"] == 0, resumed=True)


async def _open_payment(
    view: repo.Row, cmd: PurchaseTicket, deps: PurchaseDeps, *, release_on_failure: bool
) -> dict[str, Any]:
    order_id = view["order_id"]
    request = {
        "order_id": order_id,
        "amount": view["price_paid"],
        "currency": view["currency"],
        "customer": {
            "name": cmd.customer_name,
            "email": cmd.customer_email,
            "phone": cmd.customer_phone,
        },
        "items": [
            {
                "id": view["event_id"],
                "name": view["event_title"][:50],
                "price": view["price_paid"],
                "quantity": 1,
            }
        ],
        "expires_at": view["hold_expires_at"].isoformat(),
        "metadata": {
            "ticket_id": str(view["id"]),
            "event_id": view["event_id"],
            "user_id": view["user_id"],
            "event_title": view["event_title"],
            "event_starts_at": view["event_starts_at"].isoformat(),
        },
    }
    try:
        opened = await deps.payments.open_payment(request)
    except PaymentServiceUnavailable as exc:
        if release_on_failure:
            await release_hold(view["id"], deps=deps, cmd=cmd, reason="payment_unavailable")
        released = "; your seat was released" if release_on_failure else ""
        raise PaymentUnavailable(
            f"Payments are unavailable right now{released}. Please retry shortly.",
            headers={"Retry-After": "5"},
        ) from exc
    except PaymentServiceRefused as exc:
        if release_on_failure:
            await release_hold(view["id"], deps=deps, cmd=cmd, reason="payment_refused")
        raise PaymentRefused(
            f"The payment could not be opened: {exc}", details={"payment_error": exc.code}
        ) from exc
    return {
        "order_id": opened.order_id,
        "snap_token": opened.snap_token,
        "redirect_url": opened.redirect_url,
        "expires_at": opened.expires_at.isoformat(),
        "raw": opened.raw,
    }


async def release_hold(
    ticket_id: uuid.UUID, *, deps: PurchaseDeps, cmd: PurchaseTicket, reason: str
) -> None:
    """Compensate a hold whose payment could not be opened: the seat goes back on sale.

    The ticket ends `expired` and `ticket.expired` is published, so payment-service voids any
    Midtrans order it may have half-opened. The key is forgotten so a retry starts afresh.
    """
    now = datetime.now(UTC)
    async with deps.pool.acquire() as conn, conn.transaction():
        ticket = await repo.lock_pending_ticket(conn, ticket_id)
        if ticket is not None:
            await repo.set_ticket_status(conn, ticket_id, TicketStatus.EXPIRED, now=now)
            await repo.move_seats(conn, ticket["event_id"], held=-1)
            await repo.cancel_transactions_of(conn, [ticket_id], now)
            view = await repo.ticket_view(conn, ticket_id)
            assert view is not None
            await ticket_events.ticket_expired(conn, deps.outbox, view, now)
        if cmd.idempotency_key is not None:
            await repo.forget_purchase_request(conn, cmd.buyer_id, cmd.idempotency_key)
    logger.warning(
        "released the hold of a purchase whose payment could not be opened",
        extra=log_fields(ticket_id=str(ticket_id), reason=reason),
    )
