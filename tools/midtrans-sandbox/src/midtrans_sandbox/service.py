"""What Midtrans does to transactions: create Snap orders, pay, cancel, expire, refund, approve.

Every status change sends a notification. Handlers call this from the event loop only,
and nothing here awaits, so each operation is atomic.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from midtrans_sandbox.api_faults import ApiFaults
from midtrans_sandbox.clock import Clock
from midtrans_sandbox.notifications import Notifier
from midtrans_sandbox.payloads import NOTIFICATION_MESSAGE, transaction_body
from midtrans_sandbox.payment_methods import DEFAULT_EXPIRY, Method, initial_details, is_enabled
from midtrans_sandbox.refund_rules import is_refundable_method, refund_window_closed
from midtrans_sandbox.settings import Settings
from midtrans_sandbox.state import (
    PAID_OUT,
    Order,
    Refund,
    Status,
    Store,
    Transaction,
    can_move,
)

OUTCOMES = ("settlement", "capture", "challenge", "pending", "deny", "cancel", "expire", "failure")
DASHBOARD_ACTIONS = ("refund", "partial_refund", "chargeback", "partial_chargeback", "reverse")
CARD_PENDING_FIRST = frozenset({"pending", "cancel", "expire"})
REFUND_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
CANNOT_MODIFY = "Merchant cannot modify the status of the transaction"


class CoreError(Exception):
    """A Core API refusal: string status_code and status_message in the body."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


class ControlError(Exception):
    """A control-API refusal (sandbox-only; not a Midtrans shape)."""

    def __init__(self, http_status: int, message: str) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.message = message


class OrderIdTaken(Exception):
    pass


@dataclass(frozen=True, slots=True)
class RefundResult:
    transaction: Transaction
    refund: Refund


class Sandbox:
    def __init__(self, settings: Settings, clock: Clock, notifier: Notifier) -> None:
        self.settings = settings
        self.clock = clock
        self.notifier = notifier
        self.store = Store()
        # What the built-in demo receiver (/_sandbox/receiver) was sent.
        self.received: list[dict[str, Any]] = []
        self.api_faults = ApiFaults()
        self._refund_ids = 0

    # ----- Snap -----

    def create_order(self, order: Order) -> Order:
        existing = self.store.orders.get(order.order_id)
        if existing is not None and existing.transaction is not None:
            raise OrderIdTaken(order.order_id)
        self.store.put_order(order)
        return order

    # ----- paying (what the customer does on the Snap page or a simulator) -----

    def pay(
        self, order_id: str, method: Method | None, outcome: str, *, notify: bool = True
    ) -> Transaction:
        """Play the customer. notify=False changes the state but sends nothing (a lost one)."""
        self.expire_due()
        if outcome not in OUTCOMES:
            raise ControlError(400, f"outcome must be one of {', '.join(OUTCOMES)}")
        order = self.store.orders.get(order_id)
        if order is None:
            raise ControlError(404, f"no Snap transaction for order_id {order_id!r}")
        transaction = order.transaction
        if transaction is not None and order.can_pay_again():
            # A declined card: the buyer tries again on the same page, same or other method.
            method = method or transaction.method
            transaction = None
        elif transaction is not None and method is not None and method != transaction.method:
            raise ControlError(
                409,
                f"order {order_id!r} is already being paid with {transaction.method.channel}",
            )
        chosen = transaction.method if transaction is not None else method
        if chosen is None:
            raise ControlError(400, "payment_type is required for the first payment")
        if outcome in {"capture", "challenge"} and chosen.payment_type != "credit_card":
            raise ControlError(400, f"{outcome} applies to credit_card payments only")
        if transaction is not None and not _outcome_possible(transaction, outcome):
            raise ControlError(409, f"a {transaction.status} transaction cannot become {outcome}")
        if transaction is None:
            transaction = self._choose_method(order, chosen)
        self._apply_outcome(transaction, outcome, notify=notify)
        return transaction

    def _choose_method(self, order: Order, method: Method) -> Transaction:
        now = self.clock.now()
        if now >= order.token_expires_at:
            raise ControlError(409, "the Snap token has expired")
        deadline = _session_deadline(order)
        if deadline is not None and now >= deadline:
            raise ControlError(409, "the order has expired")
        if not is_enabled(method, order.enabled_payments):
            raise ControlError(409, f"{method.channel} is not in enabled_payments")
        if deadline is not None:
            expiry: datetime | None = deadline
        elif order.expiry_duration_seconds is not None:
            expiry = now + timedelta(seconds=order.expiry_duration_seconds)
        else:
            expiry = now + DEFAULT_EXPIRY[method.payment_type]
        transaction = Transaction(
            order_id=order.order_id,
            method=method,
            gross_amount=order.gross_amount,
            transaction_time=now,
            expiry_time=expiry,
            details=initial_details(method),
            custom_fields=dict(order.custom_fields),
        )
        self.store.add_transaction(order, transaction)
        return transaction

    def _apply_outcome(self, tx: Transaction, outcome: str, *, notify: bool) -> None:
        is_card = tx.payment_type == "credit_card"
        if not tx.history:
            if is_card and outcome not in CARD_PENDING_FIRST:
                # A card charged at once has no pending phase and no expiry.
                tx.expiry_time = None
            else:
                # Asynchronous methods (and cards waiting for 3DS) start pending.
                if notify:
                    self._notify(tx)
                tx.history.append((Status.PENDING, tx.transaction_time))
        if outcome == "pending":
            return
        if outcome == "settlement" and is_card and tx.status is not Status.CAPTURE:
            self._move(tx, Status.CAPTURE, notify=notify)
        if outcome == "settlement":
            self._move(tx, Status.SETTLEMENT, notify=notify)
        elif outcome == "capture":
            self._move(tx, Status.CAPTURE, notify=notify)
        elif outcome == "challenge":
            self._move(tx, Status.CAPTURE, fraud_status="challenge", notify=notify)
        elif outcome == "deny":
            # A card declined by the bank or fraud detection while paying (not an accepted
            # capture reversed later) leaves the Snap page open for another try.
            tx.declined_at_payment = is_card and (
                tx.status is Status.PENDING or tx.fraud_status == "challenge"
            )
            self._move(tx, Status.DENY, notify=notify)
        else:
            self._move(tx, Status(outcome), notify=notify)

    # ----- the merchant's dashboard and the banks (no API call of the merchant) -----

    def dashboard(
        self, order_id: str, action: str, amount: int | None, *, notify: bool = True
    ) -> Transaction:
        """A refund made in the dashboard, a chargeback, or a settlement reversed to deny."""
        self.expire_due()
        if action not in DASHBOARD_ACTIONS:
            raise ControlError(400, f"action must be one of {', '.join(DASHBOARD_ACTIONS)}")
        order = self.store.orders.get(order_id)
        if order is None:
            raise ControlError(404, f"no Snap transaction for order_id {order_id!r}")
        tx = order.transaction
        if tx is None:
            raise ControlError(409, f"order {order_id!r} has no payment yet")
        if action == "reverse":
            if amount is not None:
                raise ControlError(400, "reverse takes no amount")
            if tx.status is not Status.SETTLEMENT:
                raise ControlError(409, f"a {tx.status} transaction cannot be reversed")
            self._move(tx, Status.DENY, notify=notify)
            return tx
        if tx.status not in PAID_OUT:
            raise ControlError(409, f"a {tx.status} transaction cannot get a {action}")
        kind = "chargeback" if action.endswith("chargeback") else "refund"
        if kind == "refund" and not self._refundable(tx):
            raise ControlError(409, f"Midtrans does not refund {tx.payment_type} payments")
        remaining = tx.gross_amount - tx.refunded_amount
        if action.startswith("partial_"):
            if amount is None or not 0 < amount < remaining:
                raise ControlError(
                    400, f"{action} needs an amount between 1 and {remaining - 1} (what remains)"
                )
        elif amount is not None and amount != remaining:
            raise ControlError(
                400, f"{action} gives back all that remains ({remaining}); use partial_{action}"
            )
        self._give_back(
            tx,
            amount if amount is not None else remaining,
            kind=kind,
            refund_key=f"{kind}-{self._refund_ids + 1}",
            reason="Chargeback" if kind == "chargeback" else "Refund from the dashboard",
            notify=notify,
        )
        return tx

    def _give_back(
        self, tx: Transaction, amount: int, *, kind: str, refund_key: str, reason: str, notify: bool
    ) -> Refund:
        """Record a refund or chargeback and move to its (partial_)refund/chargeback status."""
        self._refund_ids += 1
        refund = Refund(
            refund_chargeback_id=self._refund_ids,
            amount=amount,
            refund_key=refund_key,
            reason=reason,
            created_at=self.clock.now(),
            kind=kind,
        )
        tx.refunds.append(refund)
        full = tx.refunded_amount == tx.gross_amount
        status = {
            ("refund", True): Status.REFUND,
            ("refund", False): Status.PARTIAL_REFUND,
            ("chargeback", True): Status.CHARGEBACK,
            ("chargeback", False): Status.PARTIAL_CHARGEBACK,
        }[(kind, full)]
        self._move(tx, status, notify=notify)
        return refund

    def _refundable(self, tx: Transaction) -> bool:
        return is_refundable_method(tx.payment_type) or self.settings.refund_any_method

    # ----- Core API -----

    def find(self, order_or_transaction_id: str) -> Transaction:
        self.expire_due()
        transaction = self.store.find_transaction(order_or_transaction_id)
        if transaction is None:
            raise CoreError(404, "Transaction doesn't exist.")
        return transaction

    def cancel(self, order_or_transaction_id: str) -> Transaction:
        tx = self.find(order_or_transaction_id)
        if tx.status not in {Status.PENDING, Status.CAPTURE}:
            raise CoreError(412, CANNOT_MODIFY)
        self._move(tx, Status.CANCEL)
        return tx

    def expire(self, order_or_transaction_id: str) -> Transaction:
        tx = self.find(order_or_transaction_id)
        if tx.status is not Status.PENDING:
            raise CoreError(412, CANNOT_MODIFY)
        self._move(tx, Status.EXPIRE)
        return tx

    def approve(self, order_or_transaction_id: str) -> Transaction:
        tx = self._challenged(order_or_transaction_id)
        tx.fraud_status = "accept"
        tx.history.append((Status.CAPTURE, self.clock.now()))
        self._notify(tx)
        return tx

    def deny(self, order_or_transaction_id: str) -> Transaction:
        tx = self._challenged(order_or_transaction_id)
        self._move(tx, Status.DENY, fraud_status="deny")
        return tx

    def _challenged(self, order_or_transaction_id: str) -> Transaction:
        tx = self.find(order_or_transaction_id)
        if not (tx.status is Status.CAPTURE and tx.fraud_status == "challenge"):
            raise CoreError(412, CANNOT_MODIFY)
        return tx

    def refund(self, order_or_transaction_id: str, request: dict[str, Any]) -> RefundResult:
        tx = self.find(order_or_transaction_id)
        refund_key = request.get("refund_key")
        if refund_key is not None:
            if not isinstance(refund_key, str) or not REFUND_KEY_PATTERN.fullmatch(refund_key):
                raise CoreError(400, "refund_key is invalid")
            earlier = next((r for r in tx.refunds if r.refund_key == refund_key), None)
            if earlier is not None:
                if _requested_amount(request, default=earlier.amount) == earlier.amount:
                    return RefundResult(tx, earlier)  # an idempotent retry
                raise CoreError(406, "Duplicate refund ID")
        if tx.status not in PAID_OUT or not self._refundable(tx):
            raise CoreError(412, CANNOT_MODIFY)
        if refund_window_closed(tx, self.clock.now()):
            raise CoreError(412, CANNOT_MODIFY)
        remaining = tx.gross_amount - tx.refunded_amount
        amount = _requested_amount(request, default=remaining)
        if amount is None or amount <= 0 or amount > remaining:
            raise CoreError(414, "Refund request is rejected due to invalid amount")
        reason = request.get("reason")
        if reason is not None and (not isinstance(reason, str) or len(reason) > 255):
            raise CoreError(400, "reason is invalid")
        refund = self._give_back(
            tx,
            amount,
            kind="refund",
            refund_key=refund_key or f"sandbox-{uuid.uuid4().hex[:16]}",
            reason=reason or "",
            notify=True,
        )
        return RefundResult(tx, refund)

    # ----- time -----

    def expire_due(self) -> int:
        """Expire pending transactions whose expiry_time has passed (with notifications)."""
        now = self.clock.now()
        due = self.store.pending_past_expiry(now)
        for tx in due:
            self._move(tx, Status.EXPIRE)
        return len(due)

    # ----- notifications -----

    def notification_urls(self, order_id: str) -> list[str]:
        order = self.store.orders.get(order_id)
        return [] if order is None else list(order.notification_urls)

    def _move(
        self,
        tx: Transaction,
        status: Status,
        *,
        fraud_status: str | None = None,
        notify: bool = True,
    ) -> None:
        now = self.clock.now()
        tx.move(status, now)
        if fraud_status is not None:
            tx.fraud_status = fraud_status
        if status is Status.SETTLEMENT:
            tx.settlement_time = now
        if notify:
            self._notify(tx)

    def _notify(self, tx: Transaction) -> None:
        body = transaction_body(
            tx,
            status_code=tx.notification_status_code(),
            status_message=NOTIFICATION_MESSAGE,
            server_key=self.settings.server_key,
            merchant_id=self.settings.merchant_id,
        )
        urls = self.notification_urls(tx.order_id)
        self.notifier.send(tx.order_id, body, urls)

    async def reset(self) -> None:
        self.store.clear()
        self.received.clear()
        self.api_faults.clear()
        self.clock.reset()
        self._refund_ids = 0
        await self.notifier.reset()


def _session_deadline(order: Order) -> datetime | None:
    """The Snap expiry: a fixed deadline, or a duration from the first method chosen.

    A retry after a declined card does not restart the clock, so the merchant's expiry
    (the seat hold) still bounds every attempt.
    """
    if order.expiry_deadline is not None:
        return order.expiry_deadline
    if order.expiry_duration_seconds is not None and order.attempts:
        first = order.attempts[0].transaction_time
        return first + timedelta(seconds=order.expiry_duration_seconds)
    return None


def _outcome_possible(tx: Transaction, outcome: str) -> bool:
    """Whether paying an existing transaction with this outcome is a legal next step."""
    if outcome == "pending":
        return False
    if outcome == "settlement":
        return tx.status in {Status.PENDING, Status.CAPTURE} and tx.fraud_status != "challenge"
    if outcome in {"capture", "challenge"}:
        return tx.status is Status.PENDING
    wanted = Status(outcome)
    return can_move(tx.status, wanted) and not (
        tx.status is Status.SETTLEMENT and wanted is not Status.DENY
    )


def _requested_amount(request: dict[str, Any], *, default: int) -> int | None:
    amount = request.get("amount")
    if amount is None:
        return default
    if isinstance(amount, bool):
        return None
    if isinstance(amount, int):
        return amount
    if isinstance(amount, float) and amount.is_integer():
        return int(amount)
    if isinstance(amount, str) and amount.strip().isdigit():
        return int(amount)
    return None
