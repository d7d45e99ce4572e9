"""Wiring of the refund and paid-reconciler use cases onto PostgreSQL and the state machine."""

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import asyncpg
from servicekit.messaging import Outbox

from payment_service.adapters import repository as repo
from payment_service.adapters.midtrans import GatewayAnswer
from payment_service.adapters.refund_store import PgRefundStore
from payment_service.adapters.repository import Payment
from payment_service.domain.gateway import observation_from
from payment_service.domain.model import PaymentStatus
from payment_service.service_layer import gateway_sync
from payment_service.service_layer.gateway_sync import apply_gateway_body, apply_observation
from payment_service.service_layer.paid_reconciliation import (
    PaidCadence,
    PaidChecks,
    PaidPaymentChecks,
)
from payment_service.service_layer.payments import Gateway
from payment_service.service_layer.refunds import RefundStores, RefundWork


def wire_gateway_sync() -> None:
    """Every applied observation confirms refunds in the PostgreSQL refunds store."""
    gateway_sync.use_refund_store(PgRefundStore)


class PgRefundWork(PgRefundStore):
    async def apply_gateway_answer(
        self, payment: Payment, body: dict[str, Any], *, reason: str
    ) -> PaymentStatus:
        decision = await apply_observation(
            self.conn,
            self.outbox,
            payment,
            observation_from(body),
            body=body,
            source="refund",
            reason=reason,
        )
        return decision.status


def refund_stores(gw: Gateway) -> RefundStores:
    @asynccontextmanager
    async def store() -> AsyncIterator[RefundWork]:
        async with gw.pool.acquire() as conn:
            yield PgRefundWork(conn, gw.outbox)

    return store


class PgPaidChecks:
    def __init__(self, conn: asyncpg.Connection, outbox: Outbox) -> None:
        self.conn = conn
        self.outbox = outbox

    def transaction(self) -> AbstractAsyncContextManager[None]:
        return _transaction(self.conn)

    async def claim_paid(
        self, *, every_seconds: float, refunds_every_seconds: float, limit: int
    ) -> list[str]:
        return await repo.claim_paid_for_reconciliation(
            self.conn,
            every_seconds=every_seconds,
            refunds_every_seconds=refunds_every_seconds,
            limit=limit,
        )

    async def payment(self, order_id: str, *, lock: bool = False) -> Payment | None:
        return await repo.get(self.conn, order_id, lock=lock)

    async def record_gateway_call(self, answer: GatewayAnswer, order_id: str) -> None:
        await repo.record_gateway_call(self.conn, answer, order_id=order_id, source="reconciler")

    async def apply_gateway_body(self, payment: Payment, body: dict[str, Any]) -> None:
        await apply_gateway_body(self.conn, self.outbox, payment, body, source="reconciler")


def paid_checks(gw: Gateway) -> PaidChecks:
    @asynccontextmanager
    async def checks() -> AsyncIterator[PaidPaymentChecks]:
        async with gw.pool.acquire() as conn:
            yield PgPaidChecks(conn, gw.outbox)

    return checks


def paid_cadence(gw: Gateway) -> PaidCadence:
    s = gw.settings
    return PaidCadence(
        every_seconds=s.reconcile_paid_after_seconds,
        refunds_every_seconds=s.reconcile_pending_after_seconds,
        batch=s.reconcile_batch_size,
    )


@asynccontextmanager
async def _transaction(conn: asyncpg.Connection) -> AsyncIterator[None]:
    async with conn.transaction():
        yield
