"""`PaymentWork` on PostgreSQL: one pooled connection, the payments repository and the outbox."""

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import asyncpg
from servicekit.messaging import Outbox
from ticketing_contracts import EventPayload

from payment_service.adapters import repository as repo
from payment_service.adapters.refund_store import PgRefundStore
from payment_service.domain.gateway_calls import GatewayAnswer, IssuedToken
from payment_service.domain.model import PaymentState, PaymentStatus
from payment_service.domain.payment import Payment, PaymentRequest


class PgPaymentWork:
    def __init__(self, conn: asyncpg.Connection, outbox: Outbox) -> None:
        self.conn = conn
        self.outbox = outbox

    def transaction(self) -> AbstractAsyncContextManager[None]:
        return transaction_of(self.conn)

    async def payment(self, order_id: str, *, lock: bool = False) -> Payment | None:
        return await repo.get(self.conn, order_id, lock=lock)

    async def insert_new(self, request: PaymentRequest) -> Payment | None:
        return await repo.insert_new(self.conn, **_columns(request))

    async def replace_unopened_request(self, request: PaymentRequest) -> None:
        columns = _columns(request)
        for unchanged in ("currency", "user_id", "ticket_id", "event_id", "purchase_order_id"):
            columns.pop(unchanged)
        await repo.replace_unopened_request(self.conn, **columns)

    async def record_issued_token(self, order_id: str, issued: IssuedToken) -> Payment:
        return await repo.record_issued_token(self.conn, order_id, issued)

    async def save_gateway_state(
        self,
        order_id: str,
        *,
        status: PaymentStatus,
        refunded_amount: int,
        transaction_status: str | None,
        fraud_status: str | None,
        payment_type: str | None,
        transaction_id: str | None,
        settled: bool,
        events: int = 0,
    ) -> int:
        return await repo.save_gateway_state(
            self.conn,
            order_id,
            status=status,
            refunded_amount=refunded_amount,
            transaction_status=transaction_status,
            fraud_status=fraud_status,
            payment_type=payment_type,
            transaction_id=transaction_id,
            settled=settled,
            events=events,
        )

    async def publish(self, payload: EventPayload) -> str:
        envelope = await self.outbox.add(self.conn, payload)
        return envelope.event_type

    async def flag(self, order_id: str, reason: str) -> None:
        await repo.flag(self.conn, order_id, reason)

    async def add_transition(
        self,
        *,
        order_id: str,
        from_status: str | None,
        to_status: str,
        source: str,
        verdict: str,
        reason: str | None = None,
        events: list[str] | None = None,
        gateway_body: dict[str, Any] | None = None,
        notification_id: int | None = None,
    ) -> None:
        await repo.add_transition(
            self.conn,
            order_id=order_id,
            from_status=from_status,
            to_status=to_status,
            source=source,
            verdict=verdict,
            reason=reason,
            events=events,
            gateway_body=gateway_body,
            notification_id=notification_id,
        )

    async def record_gateway_call(
        self, answer: GatewayAnswer, *, order_id: str | None, source: str
    ) -> None:
        await repo.record_gateway_call(self.conn, answer, order_id=order_id, source=source)

    async def record_agreement(
        self,
        state: PaymentState,
        *,
        order_id: str,
        raw_body: bytes,
        detail: str,
        reason: str | None,
        transaction_status: str | None,
        remote_addr: str | None,
    ) -> int | None:
        return await repo.record_agreement(
            self.conn,
            state,
            order_id=order_id,
            raw_body=raw_body,
            detail=detail,
            reason=reason,
            transaction_status=transaction_status,
            remote_addr=remote_addr,
        )

    async def record_notification(
        self,
        *,
        raw_body: bytes,
        verdict: str,
        detail: str | None,
        order_id: str | None,
        transaction_status: str | None,
        signature_valid: bool | None,
        remote_addr: str | None,
    ) -> int:
        return await repo.record_notification(
            self.conn,
            raw_body=raw_body,
            verdict=verdict,
            detail=detail,
            order_id=order_id,
            transaction_status=transaction_status,
            signature_valid=signature_valid,
            remote_addr=remote_addr,
        )

    async def count_dropped_notification(self, verdict: str) -> None:
        await repo.count_dropped_notification(self.conn, verdict)

    async def claim_for_reconciliation(self, *, older_than_seconds: float, limit: int) -> list[str]:
        return await repo.claim_for_reconciliation(
            self.conn, older_than_seconds=older_than_seconds, limit=limit
        )

    async def claim_paid_for_reconciliation(
        self, *, every_seconds: float, refunds_every_seconds: float, limit: int
    ) -> list[str]:
        return await repo.claim_paid_for_reconciliation(
            self.conn,
            every_seconds=every_seconds,
            refunds_every_seconds=refunds_every_seconds,
            limit=limit,
        )

    async def request_close(self, order_id: str) -> bool:
        return await repo.request_close(self.conn, order_id)

    async def claim_closing(self, *, limit: int, retry_seconds: float) -> list[str]:
        return await repo.claim_closing(self.conn, limit=limit, retry_seconds=retry_seconds)

    def refunds(self) -> PgRefundStore:
        return PgRefundStore(self.conn, self.outbox)


@asynccontextmanager
async def transaction_of(conn: asyncpg.Connection) -> AsyncIterator[None]:
    async with conn.transaction():
        yield


def _columns(request: PaymentRequest) -> dict[str, Any]:
    return {
        "order_id": request.order_id,
        "amount": request.amount,
        "currency": request.currency,
        "user_id": request.user_id,
        "ticket_id": request.ticket_id,
        "event_id": request.event_id,
        "customer": request.customer,
        "items": request.items,
        "metadata": request.metadata,
        "expires_at": request.expires_at,
        "purchase_order_id": request.purchase_order_id,
        "ticket_ids": request.ticket_ids,
    }
