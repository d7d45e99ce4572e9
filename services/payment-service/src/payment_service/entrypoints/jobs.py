"""Background jobs: the reconciler, the closing of released payments, and the refund worker."""

from servicekit.jobs import PeriodicJob

from payment_service.service_layer.paid_reconciliation import reconcile_paid
from payment_service.service_layer.payments import Gateway
from payment_service.service_layer.reconciliation import close_released_payments, reconcile_pending
from payment_service.service_layer.refunds import retry_due_refunds
from payment_service.wiring import paid_cadence, paid_checks, refund_stores


def background_jobs(gw: Gateway) -> list[PeriodicJob]:
    settings = gw.settings
    stores = refund_stores(gw)
    checks, cadence = paid_checks(gw), paid_cadence(gw)
    return [
        PeriodicJob(
            "reconcile-pending-payments",
            settings.reconcile_interval_seconds,
            lambda: reconcile_pending(gw),
        ),
        PeriodicJob(
            "reconcile-paid-payments",
            settings.reconcile_paid_interval_seconds,
            lambda: reconcile_paid(checks, gw.midtrans, cadence),
        ),
        PeriodicJob(
            "close-released-payments",
            settings.close_interval_seconds,
            lambda: close_released_payments(gw),
        ),
        PeriodicJob(
            "carry-out-refunds",
            settings.refund_interval_seconds,
            lambda: retry_due_refunds(stores, gw.midtrans),
        ),
    ]
