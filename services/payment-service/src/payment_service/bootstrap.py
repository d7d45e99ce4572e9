"""The composition root: settings, the Midtrans client, routes, the consumer and the jobs."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from servicekit.app import Runtime, ServiceParts, build_app
from servicekit.logs import register_secret

from payment_service.adapters.guards import redis_guards
from payment_service.adapters.metrics import CountedTransport, refresh_payment_figures
from payment_service.adapters.midtrans import (
    MidtransClient,
    MidtransRefused,
    MidtransStatusApi,
    MidtransUnavailable,
    TransactionNotFound,
)
from payment_service.domain.errors import (
    AmountMismatch,
    InvalidOrder,
    NotRefundable,
    OrderConflict,
    PaymentClosed,
    PaymentNotFound,
    PayoutConflict,
    RateLimited,
    RefundNotFound,
    StatusApiUnavailable,
)
from payment_service.domain.gateway import (
    AmountTampered,
    InconsistentNotification,
    InvalidSignature,
    MalformedNotification,
)
from payment_service.domain.refunds import InvalidBankAccount, PartialRefundNotSupported
from payment_service.domain.snap import HoldExpired
from payment_service.entrypoints.consumers import ticket_events_consumer
from payment_service.entrypoints.http import internal, public
from payment_service.entrypoints.jobs import background_jobs
from payment_service.entrypoints.refunds_http import admin_refunds, buyer_refunds
from payment_service.service_layer.notification_ledger import PaymentNotificationLedger
from payment_service.service_layer.notifications import NotificationDeps, NotificationUnconfirmed
from payment_service.service_layer.ports import PaymentDeps
from payment_service.settings import PaymentSettings
from payment_service.wiring import paid_checks, pg_payment_works, refund_works

DOMAIN_ERRORS: dict[type[Exception], tuple[int, str]] = {
    PaymentNotFound: (404, "not_found"),
    OrderConflict: (409, "order_conflict"),
    AmountMismatch: (409, "amount_mismatch"),
    InvalidOrder: (422, "validation_error"),
    PaymentClosed: (409, "payment_closed"),
    HoldExpired: (409, "hold_expired"),
    NotRefundable: (409, "not_refundable"),
    MalformedNotification: (400, "malformed_notification"),
    InvalidSignature: (403, "invalid_signature"),
    InconsistentNotification: (400, "inconsistent_notification"),
    AmountTampered: (400, "amount_mismatch"),
    RateLimited: (429, "rate_limited"),
    NotificationUnconfirmed: (404, "not_found"),
    MidtransRefused: (502, "midtrans_refused"),
    TransactionNotFound: (502, "midtrans_refused"),
    MidtransUnavailable: (503, "midtrans_unavailable"),
    StatusApiUnavailable: (503, "midtrans_unavailable"),
    RefundNotFound: (404, "not_found"),
    PayoutConflict: (409, "payout_conflict"),
    InvalidBankAccount: (422, "validation_error"),
    PartialRefundNotSupported: (409, "partial_refund_not_supported"),
}


def create_app(settings: PaymentSettings | None = None) -> FastAPI:
    settings = settings or PaymentSettings()
    register_secret(settings.midtrans_server_key.get_secret_value())
    register_secret(settings.notification_signing_key)

    @asynccontextmanager
    async def setup(app: FastAPI, runtime: Runtime) -> AsyncIterator[ServiceParts]:
        midtrans = MidtransClient(
            server_key=settings.midtrans_server_key.get_secret_value(),
            snap_base_url=settings.snap_base_url,
            core_base_url=settings.core_base_url,
            timeout_seconds=settings.midtrans_timeout_seconds,
            connect_timeout_seconds=settings.midtrans_connect_timeout_seconds,
            retries=settings.midtrans_retries,
            notification_url=settings.midtrans_notification_url,
            wrap_transport=CountedTransport,
        )
        guards = redis_guards(
            runtime.redis,
            prefix=settings.guard_key_prefix,
            snap_token_limit=settings.snap_token_rate_limit,
            status_limit=settings.status_rate_limit,
            window_seconds=settings.rate_limit_window_seconds,
            status_cache_seconds=settings.status_cache_seconds,
            invalid_per_minute=settings.invalid_notifications_stored_per_minute,
        )
        works = pg_payment_works(runtime.pool, runtime.outbox)
        deps = PaymentDeps(
            works=works,
            midtrans=midtrans,
            settings=settings,
            guards=guards,
            refund_works=refund_works(runtime.pool, runtime.outbox),
            paid_checks=paid_checks(runtime.pool, runtime.outbox),
        )
        app.state.payment_deps = deps
        app.state.notification_deps = NotificationDeps(
            ledger=PaymentNotificationLedger(works),
            status_api=MidtransStatusApi(midtrans),
            invalid_bodies=guards.invalid_bodies,
            signing_key=settings.notification_signing_key,
            confirm_with_status_api=settings.midtrans_verify_with_status_api,
        )
        try:
            yield ServiceParts(
                consumers=[ticket_events_consumer(runtime.outbox)],
                jobs=background_jobs(deps),
                metrics=[refresh_payment_figures],
            )
        finally:
            await midtrans.aclose()

    return build_app(
        settings,
        title="payment-service",
        routers=[internal, public, admin_refunds, buyer_refunds],
        migrations=Path(__file__).parent / "migrations",
        setup=setup,
        domain_errors=DOMAIN_ERRORS,
    )
