"""Where a refund stands, told once per change, and what a gateway answer says about refunds.

`RefundStore` is the port of every refund use case. `settle_from_gateway` runs inside the one
"apply an observation" path (gateway_sync): our API refunds the answer confirms (pending ->
succeeded) and refunds made elsewhere (the Midtrans dashboard), recorded so the buyer sees them.
"""

import uuid
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from payment_service.domain.gateway import refund_key
from payment_service.domain.gateway_calls import GatewayAnswer
from payment_service.domain.model import PaymentStatus
from payment_service.domain.payment import Payment
from payment_service.domain.refunds import (
    UNFINISHED,
    BankAccount,
    GatewayRefund,
    Refund,
    RefundMethod,
    RefundStatus,
    gateway_refunds,
    match_refunds,
)

REFUND_STATUSES = frozenset({PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED})


class RefundStore(Protocol):
    """Refunds, their payment and their audit, on one connection."""

    def transaction(self) -> AbstractAsyncContextManager[None]: ...

    async def payment(self, order_id: str, *, lock: bool = False) -> Payment | None: ...

    async def refund(self, refund_key: str) -> Refund | None: ...

    async def refund_by_id(self, refund_id: uuid.UUID) -> Refund | None: ...

    async def refunds_of(self, order_id: str) -> list[Refund]:
        """The order's refunds, oldest first."""

    async def committed_amount(self, order_id: str) -> int:
        """Rupiah our unfinished refunds and payouts hold beyond the payment's refunded_amount."""

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
        """Insert the intent; None if the key exists (the same request)."""

    async def claim_for_sending(self, refund_key: str, *, lease_seconds: float) -> Refund | None:
        """Take a due (or never sent) `requested` refund for one attempt; None if taken."""

    async def due_refunds(self, limit: int) -> list[str]: ...

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
        """Move it if it is in `only_from` (one statement); the refund after, or None."""

    async def postpone(self, refund_key: str, error: str) -> None: ...

    async def set_bank_account(self, refund_id: uuid.UUID, account: BankAccount) -> bool: ...

    async def mark_paid_out(
        self, refund_id: uuid.UUID, *, reference: str, admin_id: str
    ) -> bool: ...

    async def refunds_page(
        self,
        *,
        status: RefundStatus | None,
        order_id: str | None,
        user_id: str | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[Refund]: ...

    async def flag(self, order_id: str, reason: str) -> None: ...

    async def record_gateway_call(self, answer: GatewayAnswer, order_id: str) -> None: ...

    async def note(self, payment: Payment, *, verdict: str, reason: str) -> None:
        """An audit row for a step that is not a state change (a bank account given)."""

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


async def move_and_announce(
    store: RefundStore,
    payment: Payment,
    refund: Refund,
    *,
    to: RefundStatus,
    only_from: frozenset[RefundStatus],
    payment_status: PaymentStatus | None = None,
    gateway_body: dict[str, Any] | None = None,
    error: str | None = None,
    method: RefundMethod | None = None,
    detail: str | None = None,
) -> Refund | None:
    """Move the refund if it still is in `only_from`, then announce it; None if it had moved."""
    after = await store.move(
        refund.refund_key,
        to=to,
        only_from=only_from,
        gateway_body=gateway_body,
        error=error,
        method=method,
    )
    if after is not None:
        await store.announce(
            payment, after, payment_status=payment_status, verdict=f"refund_{to}", detail=detail
        )
    return after


def external_refund_key(order_id: str, gateway_key: str) -> str:
    """Our key for a refund made elsewhere: Midtrans' refund_key is unique per transaction only.

    The dashboard (and the sandbox) number refunds `refund-1`, `refund-2`, ... per transaction,
    so two orders' dashboard refunds share a key; ours is scoped by the order.
    """
    return f"{order_id}:{gateway_key}"


def _scoped(order_id: str, entry: GatewayRefund, known: set[str]) -> GatewayRefund:
    """The entry with our key: ours (sent with our order-scoped key) as is, others scoped."""
    if entry.refund_key is None or entry.refund_key in known:
        return entry
    return replace(entry, refund_key=external_refund_key(order_id, entry.refund_key))


async def settle_from_gateway(
    store: RefundStore,
    payment: Payment,
    *,
    status: PaymentStatus,
    refunded_total: int,
    body: dict[str, Any] | None,
) -> None:
    """Confirm our refunds Midtrans shows as done; record the ones made elsewhere."""
    if status not in REFUND_STATUSES:
        return
    ours = await store.refunds_of(payment.order_id)
    known = {r.refund_key for r in ours}
    listed = gateway_refunds(body or {})
    if listed is not None:
        listed = [_scoped(payment.order_id, g, known) for g in listed]
    match = match_refunds([r.known() for r in ours], listed, refunded_total)
    by_key = {r.refund_key: r for r in ours}
    for key in match.confirmed:
        await move_and_announce(
            store,
            payment,
            by_key[key],
            to=RefundStatus.SUCCEEDED,
            only_from=UNFINISHED,
            payment_status=status,
            detail="confirmed by Midtrans",
        )
    for external in match.external:
        key = external.refund_key or refund_key(payment.order_id, f"gateway:{refunded_total}")
        added = await store.add_refund(
            refund_key=key,
            order_id=payment.order_id,
            amount=external.amount,
            reason=external.reason or "refunded outside payment-service (Midtrans dashboard)",
            source="midtrans",
            requested_by=None,
            method=RefundMethod.API,
            status=RefundStatus.SUCCEEDED,
        )
        if added is not None:
            await store.announce(
                payment,
                added,
                payment_status=status,
                verdict="refund_found",
                detail="made outside payment-service",
            )
