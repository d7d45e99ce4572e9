"""Wiring of the refund use cases: PostgreSQL stores that also apply gateway answers."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from payment_service.adapters.refund_store import PgRefundStore
from payment_service.adapters.repository import Payment
from payment_service.domain.gateway import observation_from
from payment_service.domain.model import PaymentStatus
from payment_service.service_layer.gateway_sync import apply_observation
from payment_service.service_layer.payments import Gateway
from payment_service.service_layer.refunds import RefundStores, RefundWork


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
