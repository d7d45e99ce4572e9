"""The refund use cases' store on one PostgreSQL connection: refunds SQL, the payment's row,
the audit trail and `payment.refund_updated` in the outbox (with the payment's event sequence).
"""

import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg
from servicekit.messaging import Outbox
from ticketing_contracts import PaymentRefundUpdatedV2

from payment_service.adapters import refund_repository as refunds_repo
from payment_service.adapters import repository as repo
from payment_service.domain.gateway_calls import GatewayAnswer
from payment_service.domain.model import PaymentStatus
from payment_service.domain.payment import Payment
from payment_service.domain.refunds import BankAccount, Refund, RefundMethod, RefundStatus


class PgRefundStore:
    def __init__(self, conn: asyncpg.Connection, outbox: Outbox) -> None:
        self.conn = conn
        self.outbox = outbox

    def transaction(self) -> AbstractAsyncContextManager[None]:
        return _transaction(self.conn)

    async def payment(self, order_id: str, *, lock: bool = False) -> Payment | None:
        return await repo.get(self.conn, order_id, lock=lock)

    async def refund(self, refund_key: str) -> Refund | None:
        return await refunds_repo.by_key(self.conn, refund_key)

    async def refund_by_id(self, refund_id: uuid.UUID) -> Refund | None:
        return await refunds_repo.by_id(self.conn, refund_id)

    async def refunds_of(self, order_id: str) -> list[Refund]:
        return await refunds_repo.of_order(self.conn, order_id)

    async def committed_amount(self, order_id: str) -> int:
        return await refunds_repo.committed_amount(self.conn, order_id)

    async def add_refund(
        self,
        *,
        refund_key: str,
        order_id: str,
        amount: int,
        reason: str,
        source: str,
        requested_by: str | None,
        method: RefundMethod,
        status: RefundStatus,
        hold_seconds: float = 0.0,
        ticket_ids: tuple[str, ...] = (),
    ) -> Refund | None:
        return await refunds_repo.add(
            self.conn,
            refund_key=refund_key,
            order_id=order_id,
            amount=amount,
            reason=reason,
            source=source,
            requested_by=requested_by,
            method=method,
            status=status,
            hold_seconds=hold_seconds,
            ticket_ids=ticket_ids,
        )

    async def claim_for_sending(self, refund_key: str, *, lease_seconds: float) -> Refund | None:
        return await refunds_repo.claim_for_sending(
            self.conn, refund_key, lease_seconds=lease_seconds
        )

    async def due_refunds(self, limit: int) -> list[str]:
        return await refunds_repo.due(self.conn, limit)

    async def move(
        self,
        refund_key: str,
        *,
        to: RefundStatus,
        only_from: frozenset[RefundStatus],
        gateway_body: dict[str, Any] | None = None,
        error: str | None = None,
        method: RefundMethod | None = None,
    ) -> Refund | None:
        moved = await refunds_repo.move(
            self.conn,
            refund_key,
            to=to,
            only_from=only_from,
            gateway_body=gateway_body,
            error=error,
            method=method,
        )
        return await refunds_repo.by_key(self.conn, refund_key) if moved else None

    async def postpone(self, refund_key: str, error: str) -> None:
        await refunds_repo.postpone(self.conn, refund_key, error)

    async def set_bank_account(self, refund_id: uuid.UUID, account: BankAccount) -> bool:
        return await refunds_repo.set_bank_account(self.conn, refund_id, account)

    async def mark_paid_out(self, refund_id: uuid.UUID, *, reference: str, admin_id: str) -> bool:
        return await refunds_repo.mark_paid_out(
            self.conn, refund_id, reference=reference, admin_id=admin_id
        )

    async def refunds_page(
        self,
        *,
        status: RefundStatus | None,
        order_id: str | None,
        user_id: str | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[Refund]:
        return await refunds_repo.page(
            self.conn, status=status, order_id=order_id, user_id=user_id, after=after, limit=limit
        )

    async def flag(self, order_id: str, reason: str) -> None:
        await repo.flag(self.conn, order_id, reason)

    async def record_gateway_call(self, answer: GatewayAnswer, order_id: str) -> None:
        await repo.record_gateway_call(self.conn, answer, order_id=order_id, source="refund")

    async def note(self, payment: Payment, *, verdict: str, reason: str) -> None:
        await repo.add_transition(
            self.conn,
            order_id=payment.order_id,
            from_status=str(payment.status),
            to_status=str(payment.status),
            source="refund",
            verdict=verdict,
            reason=reason,
        )

    async def announce(
        self,
        payment: Payment,
        refund: Refund,
        *,
        payment_status: PaymentStatus | None,
        verdict: str,
        detail: str | None,
    ) -> None:
        """Audit the refund's change and write `payment.refund_updated`, in this transaction."""
        status = payment_status or payment.status
        sequence = await repo.advance_event_sequence(self.conn, payment.order_id)
        envelope = await self.outbox.add(
            self.conn,
            PaymentRefundUpdatedV2(
                **payment.event_facts(),
                sequence=sequence,
                payment_status=str(status),
                refund_id=str(refund.refund_id),
                refund_amount=refund.amount,
                method=refund.method.value,
                refund_status=refund.status.value,
                reason=refund.reason,
                reference=refund.payout_reference,
                refunded_ticket_ids=list(refund.ticket_ids),
            ),
        )
        await repo.add_transition(
            self.conn,
            order_id=payment.order_id,
            from_status=str(payment.status),
            to_status=str(status),
            source="refund",
            verdict=verdict,
            reason=(
                f"refund {refund.refund_id} ({refund.method}, {refund.amount} IDR): "
                f"{refund.status}" + (f"; {detail}" if detail else "")
            ),
            events=[envelope.event_type],
        )


@asynccontextmanager
async def _transaction(conn: asyncpg.Connection) -> AsyncIterator[None]:
    async with conn.transaction():
        yield


@asynccontextmanager
async def pg_refund_store(pool: asyncpg.Pool, outbox: Outbox) -> AsyncIterator[PgRefundStore]:
    async with pool.acquire() as conn:
        yield PgRefundStore(conn, outbox)
