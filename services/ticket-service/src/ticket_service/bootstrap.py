"""The composition root: settings, routers, the consumer, the jobs, and each use case's adapters."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import asyncpg
from fastapi import APIRouter, FastAPI, Request
from servicekit.app import Runtime, ServiceParts, build_app
from servicekit.db import DbConn
from servicekit.errors import DomainErrorMap
from servicekit.idempotency import IdempotentAnswers
from servicekit.messaging import Outbox

from ticket_service.adapters.connections import per_connection
from ticket_service.adapters.door_guard import RedisDoorGuard
from ticket_service.adapters.holds_repository import SqlHoldsRepository
from ticket_service.adapters.host_tools_repository import SqlHostToolsRepository
from ticket_service.adapters.purchase_requests import SqlPurchaseAnswers
from ticket_service.adapters.purchase_store import SqlPurchaseStore
from ticket_service.adapters.rate_limit import PurchaseRateLimiter
from ticket_service.adapters.readings import SqlTicketReader
from ticket_service.adapters.ticket_events import OutboxTicketEvents
from ticket_service.adapters.ticketed_events_repository import SqlTicketedEvents
from ticket_service.domain import errors
from ticket_service.domain.qr_codes import SigningKeys
from ticket_service.domain.tickets import IllegalTransition
from ticket_service.service_layer.holds import HoldsRepository
from ticket_service.service_layer.purchase import PurchaseDeps, PurchaseStore
from ticket_service.settings import TicketSettings

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
}


def routers() -> list[APIRouter]:
    """Order matters: fixed paths (/tickets/my-tickets, /tickets/by-code/...) before /tickets/{id}.

    Every router lists its fixed paths first, and `{ticket_id}` routes use the `uuid` path
    convertor, so a word like `my-tickets` never reaches them whatever the order here.
    """
    from ticket_service.entrypoints.http import (
        door,
        door_stats,
        events,
        gates,
        host_tools,
        scanners,
        tickets,
    )

    return [
        events.router,
        door.router,
        gates.router,
        scanners.router,
        door_stats.router,
        host_tools.router,
        tickets.router,
    ]


def door_errors() -> DomainErrorMap:
    """The door's and host tools' refusals (issue 6), kept next to their routes."""
    from ticket_service.entrypoints.http.door import DOOR_ERRORS

    return DOOR_ERRORS


def create_app(settings: TicketSettings | None = None) -> FastAPI:
    settings = settings or TicketSettings()

    @asynccontextmanager
    async def setup(app: FastAPI, runtime: Runtime) -> AsyncIterator[ServiceParts]:
        from ticket_service.adapters.metrics import refresh_holds
        from ticket_service.adapters.payments import PaymentClient
        from ticket_service.entrypoints.consumers import payment_events_consumer
        from ticket_service.entrypoints.door_jobs import nonce_purger
        from ticket_service.entrypoints.jobs import hold_sweeper

        app.state.settings = settings
        app.state.payments = PaymentClient(settings)
        try:
            yield ServiceParts(
                consumers=[payment_events_consumer(settings, runtime)],
                jobs=[hold_sweeper(settings, runtime), nonce_purger(runtime)],
                metrics=[refresh_holds],
            )
        finally:
            await app.state.payments.aclose()

    return build_app(
        settings,
        title="ticket-service",
        routers=routers(),
        migrations=Path(__file__).parent / "migrations",
        setup=setup,
        domain_errors={**DOMAIN_ERRORS, **door_errors()},
        # An offline scanner's batch of 500 scans (issue 15) is larger than the default 64 KiB.
        max_body_bytes=256 * 1024,
    )


# --- each use case's adapters ------------------------------------------------------------------


def _settings(request: Request) -> TicketSettings:
    settings: TicketSettings = request.app.state.settings
    return settings


def purchase_deps(request: Request) -> PurchaseDeps:
    runtime: Runtime = request.app.state.runtime
    settings = _settings(request)
    keys = settings.signing_keys

    def store(conn: asyncpg.Connection) -> PurchaseStore:
        return SqlPurchaseStore(conn, OutboxTicketEvents(conn, runtime.outbox, keys))

    return PurchaseDeps(
        store=per_connection(runtime.pool, store),
        payments=request.app.state.payments,
        limiter=PurchaseRateLimiter(
            runtime.redis,
            limit=settings.purchase_rate_limit,
            window_seconds=settings.purchase_rate_window_seconds,
        ),
        hold_minutes=settings.hold_minutes,
    )


def purchase_answers(request: Request, *, reused_message: str) -> IdempotentAnswers:
    runtime: Runtime = request.app.state.runtime
    return IdempotentAnswers(SqlPurchaseAnswers(runtime.pool), reused_message=reused_message)


def holds_store(
    pool: asyncpg.Pool, outbox: Outbox, keys: SigningKeys
) -> Callable[[], AbstractAsyncContextManager[HoldsRepository]]:
    def repository(conn: asyncpg.Connection) -> HoldsRepository:
        return SqlHoldsRepository(conn, OutboxTicketEvents(conn, outbox, keys))

    return per_connection(pool, repository)


def ticket_reader(conn: DbConn) -> SqlTicketReader:
    return SqlTicketReader(conn)


def ticketed_events(conn: DbConn) -> SqlTicketedEvents:
    return SqlTicketedEvents(conn)


def door_guard(request: Request) -> RedisDoorGuard:
    runtime: Runtime = request.app.state.runtime
    settings = _settings(request)
    return RedisDoorGuard(
        runtime.redis,
        failures_allowed=settings.door_failures_allowed,
        window_seconds=settings.door_failure_window_seconds,
    )


def door_repository(conn: DbConn, request: Request) -> SqlHostToolsRepository:
    """The door's and the host tools' repository (one request's connection)."""
    runtime: Runtime = request.app.state.runtime
    keys = _settings(request).signing_keys
    return SqlHostToolsRepository(conn, OutboxTicketEvents(conn, runtime.outbox, keys))
