"""The ports of payment-service's use cases: what they need, never how it is done.

`PaymentWork` is the unit of work of one use case (one connection: its transaction, the
payments and their audit, the outbox, the refunds); `PaymentDeps` is everything a use case may
be given. bootstrap wires PostgreSQL (`unit_of_work.PgPaymentWork`), Midtrans and Redis; the unit
tests wire in-memory fakes.
"""

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from servicekit.rate_limit import RateDecision
from ticketing_contracts import EventPayload

from payment_service.domain.gateway_calls import GatewayAnswer, IssuedToken, SnapToken
from payment_service.domain.model import PaymentState, PaymentStatus
from payment_service.domain.payment import Payment, PaymentRequest
from payment_service.service_layer.paid_reconciliation import PaidChecks
from payment_service.service_layer.refund_progress import RefundStore
from payment_service.service_layer.refunds import RefundStores
from payment_service.settings import PaymentSettings


class PaymentWork(Protocol):
    """One use case's work on one connection: payments, their audit, the outbox, refunds."""

    def transaction(self) -> AbstractAsyncContextManager[None]: ...

    async def payment(self, order_id: str, *, lock: bool = False) -> Payment | None: ...

    async def insert_new(self, request: PaymentRequest) -> Payment | None:
        """The new payment, or None when the order exists; inside a transaction, the new row
        is locked until it commits."""

    async def replace_unopened_request(self, request: PaymentRequest) -> None:
        """A payment Midtrans never gave a token for may be asked for again with new details."""

    async def record_issued_token(self, order_id: str, issued: IssuedToken) -> Payment:
        """Snap's answer (audited), the token on the payment and its transition; the payment as
        it now stands, with its token."""

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
        """The new state, and `events` gap-free sequence numbers reserved under the row lock for
        the events it publishes: the last one (the last used, with none)."""

    async def publish(self, payload: EventPayload) -> str:
        """Add the event to the outbox in this transaction; its event type."""

    async def flag(self, order_id: str, reason: str) -> None: ...

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
    ) -> None: ...

    async def record_gateway_call(
        self, answer: GatewayAnswer, *, order_id: str | None, source: str
    ) -> None: ...

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
        """A signed notification claiming `state`: audited as a duplicate with its transition,
        atomically, if the payment still holds `state` (the audit row's id); else nothing is
        written (None)."""

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
    ) -> int: ...

    async def count_dropped_notification(self, verdict: str) -> None: ...

    async def claim_for_reconciliation(
        self, *, older_than_seconds: float, limit: int
    ) -> list[str]: ...

    async def request_close(self, order_id: str) -> bool:
        """Mark an open payment to be expired at Midtrans; False if it is not open."""

    async def claim_closing(self, *, limit: int, retry_seconds: float) -> list[str]: ...

    def refunds(self) -> RefundStore:
        """The refunds store on this unit of work's connection and outbox."""


PaymentWorks = Callable[[], AbstractAsyncContextManager[PaymentWork]]


class MidtransApi(Protocol):
    """Midtrans as the payment use cases call it (Snap, status, closing, refunds)."""

    async def create_snap_transaction(self, body: dict[str, Any]) -> SnapToken: ...
    async def status(self, transaction_id: str) -> GatewayAnswer: ...
    async def cancel(self, transaction_id: str) -> GatewayAnswer: ...
    async def expire(self, transaction_id: str) -> GatewayAnswer: ...
    async def refund(
        self, transaction_id: str, *, refund_key: str, amount: int, reason: str
    ) -> GatewayAnswer: ...


class UserLimit(Protocol):
    async def attempt(self, user_id: str) -> RateDecision: ...


class StatusAnswers(Protocol):
    """Midtrans' last status answer per order and version of its payment, kept a few seconds:
    once the payment changes (a notification applied, say) the next read asks Midtrans again."""

    async def get(self, order_id: str, version: str) -> dict[str, Any] | None: ...
    async def put(self, order_id: str, version: str, body: dict[str, Any]) -> None: ...


class PaymentGuards(Protocol):
    @property
    def snap_token(self) -> UserLimit: ...
    @property
    def status(self) -> UserLimit: ...
    @property
    def status_cache(self) -> StatusAnswers: ...


@dataclass(frozen=True)
class PaymentDeps:
    """What the payment use cases are given (bootstrap builds it once)."""

    works: PaymentWorks
    midtrans: MidtransApi
    settings: PaymentSettings
    guards: PaymentGuards
    refund_works: RefundStores
    paid_checks: PaidChecks
