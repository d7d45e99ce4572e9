"""The slower reconciler: paid payments of events still to come are asked about again.

A reversal, a chargeback or a refund made in the Midtrans dashboard reaches us even if its
notification is lost, and so does the final notification of one of our own refunds. Payments
are claimed with a conditional UPDATE over FOR UPDATE SKIP LOCKED (replicas never take the same
one); Midtrans is asked without a lock, and its answer is applied under the payment's lock
through the one state machine path (source `reconciler`): it only ever moves a payment forward.
"""

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from servicekit.logs import log_fields

from payment_service.adapters.midtrans import GatewayAnswer, MidtransError, TransactionNotFound
from payment_service.adapters.repository import Payment

logger = logging.getLogger(__name__)


class PaidPaymentChecks(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[None]: ...

    async def claim_paid(
        self, *, every_seconds: float, refunds_every_seconds: float, limit: int
    ) -> list[str]:
        """Paid payments due for a check, marked checked (SKIP LOCKED: none twice at once)."""

    async def payment(self, order_id: str, *, lock: bool = False) -> Payment | None: ...

    async def record_gateway_call(self, answer: GatewayAnswer, order_id: str) -> None: ...

    async def apply_gateway_body(self, payment: Payment, body: dict[str, Any]) -> None:
        """Midtrans' answer through the state machine (source `reconciler`)."""


class StatusGateway(Protocol):
    async def status(self, order_id: str) -> GatewayAnswer: ...


PaidChecks = Callable[[], AbstractAsyncContextManager[PaidPaymentChecks]]


@dataclass(frozen=True)
class PaidCadence:
    every_seconds: float  # each paid payment at most this often
    refunds_every_seconds: float  # a payment with a refund pending at Midtrans this often
    batch: int


async def reconcile_paid(checks: PaidChecks, midtrans: StatusGateway, cadence: PaidCadence) -> int:
    """Ask Midtrans again about the paid payments that are due; apply what changed."""
    async with checks() as store:
        order_ids = await store.claim_paid(
            every_seconds=cadence.every_seconds,
            refunds_every_seconds=cadence.refunds_every_seconds,
            limit=cadence.batch,
        )
    for order_id in order_ids:
        try:
            await _recheck(checks, midtrans, order_id)
        except MidtransError as exc:
            logger.warning(
                "reconciler could not reach Midtrans",
                extra=log_fields(order_id=order_id, error=str(exc)),
            )
    return len(order_ids)


async def _recheck(checks: PaidChecks, midtrans: StatusGateway, order_id: str) -> None:
    async with checks() as store:
        payment = await store.payment(order_id)
        if payment is None:
            return
        try:
            # By order_id: the order's current transaction (a retry after a decline is a new one).
            answer = await midtrans.status(payment.order_id)
        except MidtransError as exc:
            await store.record_gateway_call(exc.answer, order_id)
            if isinstance(exc, TransactionNotFound):
                logger.error(
                    "Midtrans no longer knows a paid payment", extra=log_fields(order_id=order_id)
                )
                return
            raise
        async with store.transaction():
            await store.record_gateway_call(answer, order_id)
            payment = await store.payment(order_id, lock=True)
            if payment is None or answer.body is None:
                return
            await store.apply_gateway_body(payment, answer.body)
