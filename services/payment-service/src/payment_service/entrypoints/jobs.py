"""Background jobs: the reconcilers, the closing of released payments, and the refund worker."""

from servicekit.jobs import PeriodicJob

from payment_service.service_layer.paid_reconciliation import PaidCadence, reconcile_paid
from payment_service.service_layer.ports import PaymentDeps
from payment_service.service_layer.reconciliation import close_released_payments, reconcile_pending
from payment_service.service_layer.refunds import retry_due_refunds


def background_jobs(deps: PaymentDeps) -> list[PeriodicJob]:
    settings = deps.settings
    cadence = PaidCadence(
        every_seconds=settings.reconcile_paid_after_seconds,
        refunds_every_seconds=settings.reconcile_pending_after_seconds,
        batch=settings.reconcile_batch_size,
    )
    return [
        PeriodicJob(
            "reconcile-pending-payments",
            settings.reconcile_interval_seconds,
            lambda: reconcile_pending(deps),
        ),
        PeriodicJob(
            "reconcile-paid-payments",
            settings.reconcile_paid_interval_seconds,
            lambda: reconcile_paid(deps.paid_checks, deps.midtrans, cadence),
        ),
        PeriodicJob(
            "close-released-payments",
            settings.close_interval_seconds,
            lambda: close_released_payments(deps),
        ),
        PeriodicJob(
            "carry-out-refunds",
            settings.refund_interval_seconds,
            lambda: retry_due_refunds(deps.refund_works, deps.midtrans),
        ),
    ]
