"""Snap orders, Midtrans transactions and the transaction status machine (REFERENCE §5)."""

from __future__ import annotations

import heapq
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from midtrans_sandbox.payment_methods import Method


class Status(StrEnum):
    PENDING = "pending"
    CAPTURE = "capture"
    SETTLEMENT = "settlement"
    DENY = "deny"
    CANCEL = "cancel"
    EXPIRE = "expire"
    REFUND = "refund"
    PARTIAL_REFUND = "partial_refund"
    CHARGEBACK = "chargeback"
    PARTIAL_CHARGEBACK = "partial_chargeback"
    FAILURE = "failure"


# Where money that was received goes back: a refund (API or dashboard) or a chargeback.
MONEY_BACK = frozenset(
    {Status.REFUND, Status.PARTIAL_REFUND, Status.CHARGEBACK, Status.PARTIAL_CHARGEBACK}
)
# Settled, possibly partly given back already: what refunds and chargebacks start from.
PAID_OUT = frozenset({Status.SETTLEMENT, Status.PARTIAL_REFUND, Status.PARTIAL_CHARGEBACK})


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset(
        {
            Status.CAPTURE,
            Status.SETTLEMENT,
            Status.DENY,
            Status.CANCEL,
            Status.EXPIRE,
            Status.FAILURE,
        }
    ),
    # deny from capture is a challenged card denied by the merchant.
    Status.CAPTURE: frozenset({Status.SETTLEMENT, Status.CANCEL, Status.DENY}),
    # deny from settlement is the reversal Permata, Mandiri bill and Indomaret can make.
    Status.SETTLEMENT: MONEY_BACK | {Status.DENY},
    Status.PARTIAL_REFUND: MONEY_BACK,
    Status.PARTIAL_CHARGEBACK: MONEY_BACK,
}


class IllegalTransition(Exception):
    def __init__(self, current: Status, wanted: Status) -> None:
        super().__init__(f"a {current} transaction cannot become {wanted}")
        self.current = current
        self.wanted = wanted


def can_move(current: Status, wanted: Status) -> bool:
    return wanted in TRANSITIONS.get(current, frozenset())


@dataclass(slots=True)
class Refund:
    refund_chargeback_id: int
    amount: int
    refund_key: str
    reason: str
    created_at: datetime
    # "refund" (API or dashboard) or "chargeback" (the card network, via the dashboard action).
    kind: str = "refund"


@dataclass(slots=True)
class Transaction:
    """What exists once the customer has chosen a payment method."""

    order_id: str
    method: Method
    gross_amount: int
    transaction_time: datetime
    expiry_time: datetime | None
    details: dict[str, Any]
    custom_fields: dict[str, str]
    status: Status = Status.PENDING
    fraud_status: str = "accept"
    transaction_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    settlement_time: datetime | None = None
    refunds: list[Refund] = field(default_factory=list)
    history: list[tuple[Status, datetime]] = field(default_factory=list)
    # A card declined while the buyer was paying: Snap lets the same order be paid again.
    declined_at_payment: bool = False

    @property
    def payment_type(self) -> str:
        return self.method.payment_type

    @property
    def refunded_amount(self) -> int:
        return sum(r.amount for r in self.refunds)

    def move(self, wanted: Status, at: datetime) -> None:
        if not can_move(self.status, wanted):
            raise IllegalTransition(self.status, wanted)
        self.status = wanted
        self.history.append((wanted, at))

    def notification_status_code(self) -> str:
        """status_code as notifications carry it (REFERENCE §5 table)."""
        if self.status is Status.CAPTURE:
            return "201" if self.fraud_status == "challenge" else "200"
        return {
            Status.PENDING: "201",
            Status.SETTLEMENT: "200",
            Status.REFUND: "200",
            Status.PARTIAL_REFUND: "200",
            Status.CHARGEBACK: "200",
            Status.PARTIAL_CHARGEBACK: "200",
            Status.DENY: "202",
            Status.CANCEL: "202",
            Status.EXPIRE: "202",
            Status.FAILURE: "202",
        }[self.status]

    def status_api_status_code(self) -> str:
        """status_code as GET /v2/{id}/status reports it: 407 for expire, 200 for cancel."""
        if self.status is Status.EXPIRE:
            return "407"
        if self.status is Status.CANCEL:
            return "200"
        return self.notification_status_code()


@dataclass(slots=True)
class Order:
    """A Snap session: what POST /snap/v1/transactions created for one order_id."""

    order_id: str
    gross_amount: int
    token: str
    created_at: datetime
    token_expires_at: datetime
    request: dict[str, Any]
    enabled_payments: list[str] | None
    finish_url: str | None
    # Either a fixed deadline (expiry with start_time) or a duration counted from the
    # moment a method is chosen.
    expiry_deadline: datetime | None
    expiry_duration_seconds: int | None
    notification_urls: list[str]
    custom_fields: dict[str, str]
    # The latest payment attempt; earlier ones (declined cards) stay in `attempts`.
    transaction: Transaction | None = None
    attempts: list[Transaction] = field(default_factory=list)

    @property
    def ever_settled(self) -> bool:
        return any(status is Status.SETTLEMENT for tx in self.attempts for status, _ in tx.history)

    def can_pay_again(self) -> bool:
        """After a card declined during payment, and before any settlement, Snap offers a retry."""
        tx = self.transaction
        return (
            tx is not None
            and tx.status is Status.DENY
            and tx.declined_at_payment
            and not self.ever_settled
        )


@dataclass(slots=True)
class Store:
    orders: dict[str, Order] = field(default_factory=dict)
    order_by_token: dict[str, str] = field(default_factory=dict)
    transactions: dict[str, Transaction] = field(default_factory=dict)
    # (expiry_time, transaction_id) of transactions that may expire; stale entries are skipped.
    _expiries: list[tuple[datetime, str]] = field(default_factory=list)

    def put_order(self, order: Order) -> None:
        previous = self.orders.get(order.order_id)
        if previous is not None:
            # A new token replaces (revokes) the old one.
            self.order_by_token.pop(previous.token, None)
        self.orders[order.order_id] = order
        self.order_by_token[order.token] = order.order_id

    def order_for_token(self, token: str) -> Order | None:
        order_id = self.order_by_token.get(token)
        return None if order_id is None else self.orders.get(order_id)

    def add_transaction(self, order: Order, transaction: Transaction) -> None:
        order.transaction = transaction
        order.attempts.append(transaction)
        self.transactions[transaction.transaction_id] = transaction
        if transaction.expiry_time is not None:
            heapq.heappush(self._expiries, (transaction.expiry_time, transaction.transaction_id))

    def find_transaction(self, order_or_transaction_id: str) -> Transaction | None:
        order = self.orders.get(order_or_transaction_id)
        if order is not None and order.transaction is not None:
            return order.transaction
        return self.transactions.get(order_or_transaction_id)

    def pending_past_expiry(self, now: datetime) -> list[Transaction]:
        """Pending transactions whose expiry_time is at or before now, earliest first."""
        due: list[Transaction] = []
        while self._expiries and self._expiries[0][0] <= now:
            expiry_time, transaction_id = heapq.heappop(self._expiries)
            tx = self.transactions.get(transaction_id)
            if tx is not None and tx.status is Status.PENDING and tx.expiry_time == expiry_time:
                due.append(tx)
        return due

    def clear(self) -> None:
        self.orders.clear()
        self.order_by_token.clear()
        self.transactions.clear()
        self._expiries.clear()
