"""Which payment methods Midtrans refunds by API, and for how long after payment.

Sources (README, "Refunds"): docs.midtrans.com reference-link/refund-transaction (the list of
refundable methods and the per-method windows) and docs/what-payment-method-that-have-refund-feature
(full or partial per method; bank transfer and Mandiri bill: no refund).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from midtrans_sandbox.state import Transaction

REFUNDABLE_PAYMENT_TYPES = frozenset(
    {"credit_card", "gopay", "shopeepay", "qris", "dana", "ovo", "kredivo", "akulaku"}
)


@dataclass(frozen=True, slots=True)
class RefundWindow:
    days: int
    # Counted from the transaction ("after transaction date") or from its settlement.
    from_settlement: bool


REFUND_WINDOWS: dict[str, RefundWindow] = {
    # "maximum of 1 year after transaction date using API refund"
    "credit_card": RefundWindow(365, from_settlement=False),
    # "up to 45 days after transaction is settled"
    "gopay": RefundWindow(45, from_settlement=True),
    # QRIS as the sandbox plays it: acquirer GoPay, issuer GoPay (on-us), 45 days after settlement
    "qris": RefundWindow(45, from_settlement=True),
    # ShopeePay JumpApp: "maximum of 365 days after transaction date"
    "shopeepay": RefundWindow(365, from_settlement=False),
    "dana": RefundWindow(45, from_settlement=True),
    # "7 days for regular merchants" (180 for OTA merchants, which this merchant is not)
    "ovo": RefundWindow(7, from_settlement=True),
    "kredivo": RefundWindow(14, from_settlement=True),
    # akulaku: no window in Midtrans' docs
}


def refund_window_closed(tx: Transaction, now: datetime) -> bool:
    window = REFUND_WINDOWS.get(tx.payment_type)
    if window is None:
        return False
    start = tx.settlement_time if window.from_settlement else tx.transaction_time
    return start is not None and now > start + timedelta(days=window.days)


def is_refundable_method(payment_type: str) -> bool:
    return payment_type in REFUNDABLE_PAYMENT_TYPES
