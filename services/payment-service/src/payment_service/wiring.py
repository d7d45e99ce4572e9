"""The refund and paid-reconciler ports on the payment unit of work (PostgreSQL) and the one
state machine path (`gateway_sync`); bootstrap builds them once."""

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import asyncpg
from servicekit.messaging import Outbox

from payment_service.adapters.refund_store import PgRefundStore
from payment_service.adapters.unit_of_work import PgPaymentWork
from payment_service.domain.gateway import observation_from
from payment_service.domain.gateway_calls import GatewayAnswer
from payment_service.domain.model import PaymentStatus
from payment_service.domain.payment import Payment
from payment_service.service_layer.gateway_sync import apply_gateway_body, apply_observation
from payment_service.service_layer.paid_reconciliation import PaidChecks, PaidPaymentChecks
from payment_service.service_layer.ports import PaymentWork, PaymentWorks
from payment_service.service_layer.refunds import RefundStores, RefundWork


class PgRefundWork(PgRefundStore):
    """The refunds store, plus applying a gateway answer on the same connection."""

    def __init__(self, work: PgPaymentWork) -> None:
        super().__init__(work.conn, work.outbox)
        self.work = work

    async def apply_gateway_answer(
        self, payment: Payment, body: dict[str, Any], *, reason: str
    ) -> PaymentStatus:
        decision = await apply_observation(
            self.work,
            payment,
            observation_from(body),
            body=body,
            source="refund",
            reason=reason,
        )
        return decision.status


class PaymentPaidChecks:
    """The paid reconciler's port on a payment unit of work."""

    def __init__(self, work: PgPaymentWork) -> None:
        self.work = work

    def transaction(self) -> AbstractAsyncContextManager[None]:
        return self.work.transaction()

    async def claim_paid(
        self, *, every_seconds: float, refunds_every_seconds: float, limit: int
    ) -> list[str]:
        return await self.work.claim_paid_for_reconciliation(
            every_seconds=every_seconds,
            refunds_every_seconds=refunds_every_seconds,
            limit=limit,
        )

    async def payment(self, order_id: str, *, lock: bool = False) -> Payment | None:
        return await self.work.payment(order_id, lock=lock)

    async def record_gateway_call(self, answer: GatewayAnswer, order_id: str) -> None:
        await self.work.record_gateway_call(answer, order_id=order_id, source="reconciler")

    async def apply_gateway_body(self, payment: Payment, body: dict[str, Any]) -> None:
        await apply_gateway_body(self.work, payment, body, source="reconciler")


def pg_payment_works(pool: asyncpg.Pool, outbox: Outbox) -> PaymentWorks:
    """A unit of work on a pooled connection, for as long as the `async with` lasts."""

    @asynccontextmanager
    async def work() -> AsyncIterator[PaymentWork]:
        async with pool.acquire() as conn:
            yield PgPaymentWork(conn, outbox)

    return work


def refund_works(pool: asyncpg.Pool, outbox: Outbox) -> RefundStores:
    @asynccontextmanager
    async def store() -> AsyncIterator[RefundWork]:
        async with pool.acquire() as conn:
            yield PgRefundWork(PgPaymentWork(conn, outbox))

    return store


def paid_checks(pool: asyncpg.Pool, outbox: Outbox) -> PaidChecks:
    @asynccontextmanager
    async def checks() -> AsyncIterator[PaidPaymentChecks]:
        async with pool.acquire() as conn:
            yield PaymentPaidChecks(PgPaymentWork(conn, outbox))

    return checks
