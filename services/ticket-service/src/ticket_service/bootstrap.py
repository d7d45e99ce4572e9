"""The composition root: settings, routers, the consumer, the jobs, and each use case's adapters."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import TypeVar

import asyncpg
from fastapi import APIRouter, FastAPI, Request
from servicekit.app import Runtime, ServiceParts, build_app
from servicekit.db import DbConn
from servicekit.errors import DomainErrorMap
from servicekit.idempotency import IdempotentAnswers
from servicekit.messaging import Outbox

from ticket_service.adapters.connections import per_connection
from ticket_service.adapters.door_guard import RecentlyClear, RedisDoorGuard
from ticket_service.adapters.door_repository import SqlDoorRepository
from ticket_service.adapters.holds_repository import SqlHoldsRepository
from ticket_service.adapters.host_tools_repository import SqlHostToolsRepository
from ticket_service.adapters.orders_repository import (
    SqlOrderCancellation,
    SqlOrderReader,
    SqlOrderStore,
)
from ticket_service.adapters.purchase_requests import SqlPurchaseAnswers
from ticket_service.adapters.purchase_store import SqlPurchaseStore
from ticket_service.adapters.rate_limit import PurchaseRateLimiter
from ticket_service.adapters.readings import SqlTicketReader
from ticket_service.adapters.receipt_book import SqlReceiptBook
from ticket_service.adapters.sale_setup_repository import SqlSaleSetup
from ticket_service.adapters.sales_ledger import SqlSalesLedger
from ticket_service.adapters.scanners_repository import SqlScanners
from ticket_service.adapters.sold_out_memory import RecentlySoldOut
from ticket_service.adapters.ticket_events import OutboxTicketEvents
from ticket_service.adapters.ticketed_events_repository import SqlTicketedEvents
from ticket_service.adapters.transfer_repository import SqlTransferRepository
from ticket_service.adapters.waitlist_repository import (
    SqlOfferAcceptance,
    SqlOfferMaker,
    SqlWaitlist,
)
from ticket_service.domain import errors, orders
from ticket_service.domain.tickets import IllegalTransition
from ticket_service.service_layer.holds import HoldsRepository
from ticket_service.service_layer.offer_acceptance import AcceptanceDeps
from ticket_service.service_layer.ordering import OrderDeps, OrderStore
from ticket_service.service_layer.purchase import PurchaseDeps
from ticket_service.service_layer.waitlist_offers import OfferMakerRepository, OfferMakerStore
from ticket_service.settings import TicketSettings

T = TypeVar("T")

DOMAIN_ERRORS: DomainErrorMap = {
    errors.EventNotFound: (404, "event_not_found"),
    errors.TicketNotFound: (404, "ticket_not_found"),
    errors.TransactionNotFound: (404, "transaction_not_found"),
    errors.NotEventHost: (403, "not_event_host"),
    errors.CapacityBelowTaken: (409, "capacity_below_taken"),
    errors.InvalidEvent: (422, "invalid_event"),
    errors.SoldOut: (409, "sold_out"),
    errors.SalesNotOpen: (409, "sales_not_open"),
    errors.SalesClosed: (409, "sales_closed"),
    errors.PerUserLimitReached: (409, "per_user_limit_reached"),
    errors.PriceMismatch: (409, "price_mismatch"),
    errors.BuyerMismatch: (403, "buyer_mismatch"),
    errors.PurchaseRateLimited: (429, "rate_limited"),
    errors.IdempotencyKeyReused: (422, "idempotency_key_reused"),
    errors.PurchaseInProgress: (409, "purchase_in_progress"),
    errors.PaymentUnavailable: (503, "payment_unavailable"),
    errors.PaymentRefused: (502, "payment_refused"),
    errors.AttendanceCodesExhausted: (503, "attendance_codes_exhausted"),
    IllegalTransition: (409, "illegal_transition"),
    orders.OrderNotFound: (404, "order_not_found"),
    orders.TicketTypeNotFound: (422, "ticket_type_not_found"),
    orders.TooManyTickets: (422, "too_many_tickets"),
    orders.InvalidOrder: (422, "invalid_order"),
    orders.InvalidPromoCode: (422, "invalid_promo_code"),
    orders.PromoCodeUsedUp: (409, "promo_code_used_up"),
    orders.OrderNotCancellable: (409, "order_not_cancellable"),
    orders.InvalidSaleSetup: (422, "invalid_sale_setup"),
}


def routers() -> list[APIRouter]:
    """Order matters: fixed paths (/tickets/my-tickets, /tickets/by-code/...) before /tickets/{id}.

    Every router lists its fixed paths first, and `{ticket_id}` routes use the `uuid` path
    convertor, so a word like `my-tickets` never reaches them whatever the order here. The
    busiest routers come first (the purchase, the door, the receipt every paid order's e-mail
    fetches): routing tries routes in order.
    """
    from ticket_service.entrypoints.http import (
        door,
        door_stats,
        events,
        gates,
        host_tools,
        orders,
        receipts,
        sale_setup,
        sales,
        scanners,
        tickets,
        transfers,
        waitlist,
    )

    return [
        tickets.router,
        door.router,
        receipts.router,
        events.router,
        sale_setup.router,
        orders.router,
        gates.router,
        scanners.router,
        door_stats.router,
        host_tools.router,
        transfers.router,
        sales.router,
        waitlist.router,
    ]


def door_errors() -> DomainErrorMap:
    """The door's and host tools' refusals (issue 6), kept next to their routes."""
    from ticket_service.entrypoints.http.door import DOOR_ERRORS
    from ticket_service.entrypoints.http.receipts import RECEIPT_ERRORS
    from ticket_service.entrypoints.http.transfers import TRANSFER_ERRORS

    return {**DOOR_ERRORS, **TRANSFER_ERRORS, **RECEIPT_ERRORS}


def waitlist_errors() -> DomainErrorMap:
    """The waiting list's refusals (issue 16), kept next to their routes."""
    from ticket_service.entrypoints.http.waitlist import WAITLIST_ERRORS

    return WAITLIST_ERRORS


def create_app(settings: TicketSettings | None = None) -> FastAPI:
    settings = settings or TicketSettings()

    @asynccontextmanager
    async def setup(app: FastAPI, runtime: Runtime) -> AsyncIterator[ServiceParts]:
        from ticket_service.adapters.metrics import refresh_holds
        from ticket_service.adapters.payments import PaymentClient
        from ticket_service.entrypoints.consumers import payment_events_consumer
        from ticket_service.entrypoints.door_jobs import nonce_purger
        from ticket_service.entrypoints.jobs import hold_sweeper
        from ticket_service.entrypoints.sold_out_jobs import SeatsBackListener
        from ticket_service.entrypoints.waitlist_jobs import offer_maker_job

        app.state.settings = settings
        app.state.payments = PaymentClient(settings)
        app.state.door_clear = RecentlyClear()
        # Built once: registering its script hashes it, which cost every purchase a SHA-1.
        app.state.limiter = PurchaseRateLimiter(
            runtime.redis,
            limit=settings.purchase_rate_limit,
            window_seconds=settings.purchase_rate_window_seconds,
        )
        seats_back = SeatsBackListener(settings)
        app.state.sold_out = seats_back.memory
        offer_maker = offer_maker_job(settings, runtime)
        try:
            yield ServiceParts(
                consumers=[payment_events_consumer(settings, runtime)],
                jobs=[
                    hold_sweeper(settings, runtime),
                    nonce_purger(runtime),
                    offer_maker.periodic(),
                    *([seats_back.periodic()] if seats_back.enabled else []),
                ],
                metrics=[refresh_holds],
            )
        finally:
            await offer_maker.aclose()
            await seats_back.aclose()
            await app.state.payments.aclose()

    return build_app(
        settings,
        title="ticket-service",
        routers=routers(),
        migrations=Path(__file__).parent / "migrations",
        setup=setup,
        domain_errors={**DOMAIN_ERRORS, **door_errors(), **waitlist_errors()},
        # An offline scanner's batch of 500 scans (issue 15) is larger than the default 64 KiB.
        max_body_bytes=256 * 1024,
    )


# --- each use case's adapters ------------------------------------------------------------------


def _settings(request: Request) -> TicketSettings:
    settings: TicketSettings = request.app.state.settings
    return settings


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _ticket_events(conn: asyncpg.Connection, request: Request) -> OutboxTicketEvents:
    """`ticket.*` into the outbox on the request's connection, in its caller's transaction."""
    return OutboxTicketEvents(conn, _runtime(request).outbox)


def _per_connection_with_events(
    pool: asyncpg.Pool,
    outbox: Outbox,
    build: Callable[[asyncpg.Connection, OutboxTicketEvents], T],
) -> Callable[[], AbstractAsyncContextManager[T]]:
    """A use case's store: a pooled connection per use, writing `ticket.*` to `outbox` on it."""
    return per_connection(pool, lambda conn: build(conn, OutboxTicketEvents(conn, outbox)))


def purchase_deps(request: Request) -> PurchaseDeps:
    runtime = _runtime(request)
    settings = _settings(request)
    return PurchaseDeps(
        store=_per_connection_with_events(runtime.pool, runtime.outbox, SqlPurchaseStore),
        payments=request.app.state.payments,
        limiter=_limiter(request),
        sold_out=_sold_out(request),
        hold_minutes=settings.hold_minutes,
    )


def purchase_answers(request: Request, *, reused_message: str) -> IdempotentAnswers:
    return IdempotentAnswers(
        SqlPurchaseAnswers(_runtime(request).pool), reused_message=reused_message
    )


def holds_store(
    pool: asyncpg.Pool, outbox: Outbox
) -> Callable[[], AbstractAsyncContextManager[HoldsRepository]]:
    return _per_connection_with_events(pool, outbox, SqlHoldsRepository)


async def ticket_reader(conn: DbConn) -> SqlTicketReader:
    return SqlTicketReader(conn)


async def ticketed_events(conn: DbConn) -> SqlTicketedEvents:
    return SqlTicketedEvents(conn)


async def door_guard(request: Request) -> RedisDoorGuard:
    settings = _settings(request)
    return RedisDoorGuard(
        _runtime(request).redis,
        failures_allowed=settings.door_failures_allowed,
        window_seconds=settings.door_failure_window_seconds,
        clear=request.app.state.door_clear,
    )


async def door_repository(conn: DbConn, request: Request) -> SqlHostToolsRepository:
    """The door's and the host tools' repository (one request's connection)."""
    return SqlHostToolsRepository(conn, _ticket_events(conn, request))


def door_store(request: Request) -> Callable[[], AbstractAsyncContextManager[SqlDoorRepository]]:
    """The check-in's repository on a connection of its own use: taken for the scan and given
    back before the answer is rendered. A yield dependency (`DbConn`) cost the busiest route
    about a tenth of its CPU in FastAPI's exit stack and anyio's shielded exit."""
    runtime = _runtime(request)
    return _per_connection_with_events(runtime.pool, runtime.outbox, SqlDoorRepository)


async def scanners_repository(conn: DbConn) -> SqlScanners:
    return SqlScanners(conn)


def _limiter(request: Request) -> PurchaseRateLimiter:
    limiter: PurchaseRateLimiter = request.app.state.limiter
    return limiter


def _sold_out(request: Request) -> RecentlySoldOut:
    memory: RecentlySoldOut = request.app.state.sold_out
    return memory


def order_deps(request: Request) -> OrderDeps:
    """Orders share the purchase's rate limit (one count per buyer) and hold time."""
    runtime = _runtime(request)
    settings = _settings(request)

    def order_store(conn: asyncpg.Connection, events: OutboxTicketEvents) -> OrderStore:
        return SqlOrderStore(conn, events, hold_minutes=settings.hold_minutes)

    return OrderDeps(
        store=_per_connection_with_events(runtime.pool, runtime.outbox, order_store),
        payments=request.app.state.payments,
        limiter=_limiter(request),
        sold_out=_sold_out(request),
    )


async def order_reader(conn: DbConn) -> SqlOrderReader:
    return SqlOrderReader(conn)


async def order_cancellation(conn: DbConn, request: Request) -> SqlOrderCancellation:
    return SqlOrderCancellation(conn, _ticket_events(conn, request))


async def sale_setup(conn: DbConn) -> SqlSaleSetup:
    return SqlSaleSetup(conn)


async def transfer_repository(conn: DbConn, request: Request) -> SqlTransferRepository:
    return SqlTransferRepository(conn, _ticket_events(conn, request))


async def receipt_book(conn: DbConn) -> SqlReceiptBook:
    return SqlReceiptBook(conn)


def receipt_store(request: Request) -> Callable[[], AbstractAsyncContextManager[SqlReceiptBook]]:
    """The receipts on a connection taken for the reading alone (as `door_store`): an order's
    e-mail fetches its PDF once per settlement, drawn after the connection is given back."""
    return per_connection(_runtime(request).pool, SqlReceiptBook)


async def sales_ledger(conn: DbConn) -> SqlSalesLedger:
    return SqlSalesLedger(conn)


async def waitlist_repository(conn: DbConn) -> SqlWaitlist:
    return SqlWaitlist(conn)


def offer_maker_store(pool: asyncpg.Pool, outbox: Outbox) -> OfferMakerStore:
    def repository(conn: asyncpg.Connection) -> OfferMakerRepository:
        return SqlOfferMaker(conn, outbox)

    return per_connection(pool, repository)


def acceptance_deps(request: Request) -> AcceptanceDeps:
    runtime = _runtime(request)
    return AcceptanceDeps(
        store=_per_connection_with_events(runtime.pool, runtime.outbox, SqlOfferAcceptance),
        payments=request.app.state.payments,
        hold_minutes=_settings(request).hold_minutes,
    )
