"""The composition root: settings, routers, the payment-event consumer and the hold sweeper."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI
from servicekit.app import Runtime, ServiceParts, build_app
from servicekit.errors import DomainErrorMap

from ticket_service.domain import errors
from ticket_service.domain.tickets import IllegalTransition
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
    from ticket_service.entrypoints.http import door, events, host_tools, tickets

    return [events.router, door.router, host_tools.router, tickets.router]


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
    )
