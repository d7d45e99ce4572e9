"""Refund rules per payment method, and how Midtrans' refund list settles our refund intents.

Pure: no I/O. Sources for the table are in the README ("Refunds per method").
"""

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class RefundMethod(StrEnum):
    API = "api"  # Midtrans' refund (or, for a captured card, cancel) API
    PAYOUT = "payout"  # an admin transfers the money to the buyer's bank account by hand


class RefundStatus(StrEnum):
    REQUESTED = "requested"  # recorded, not yet accepted by Midtrans
    PENDING = "pending"  # Midtrans accepted it; waiting for its final notification / status
    SUCCEEDED = "succeeded"  # Midtrans confirms the money went back
    AWAITING_PAYOUT = "awaiting_payout"  # an admin must transfer it
    PAID_OUT = "paid_out"  # an admin transferred it and recorded the reference
    FAILED = "failed"  # refused for good; an admin must act (the payment is flagged)


UNFINISHED = frozenset({RefundStatus.REQUESTED, RefundStatus.PENDING})
# What still holds money of the payment: confirmed API refunds are in the payment's
# refunded_amount already, so only these count on top of it.
COMMITTED = frozenset(
    {
        RefundStatus.REQUESTED,
        RefundStatus.PENDING,
        RefundStatus.AWAITING_PAYOUT,
        RefundStatus.PAID_OUT,
    }
)


@dataclass(frozen=True)
class MethodRule:
    by_api: bool
    partial: bool = False
    window_days: int | None = None  # None: no window we know of


# Midtrans' payment_type -> what its refund API allows (README, "Refunds per method").
METHOD_RULES: dict[str, MethodRule] = {
    "credit_card": MethodRule(by_api=True, partial=True, window_days=365),
    "gopay": MethodRule(by_api=True, partial=True, window_days=45),
    "shopeepay": MethodRule(by_api=True, partial=True, window_days=365),
    "qris": MethodRule(by_api=True, partial=True, window_days=45),
    "dana": MethodRule(by_api=True, partial=False, window_days=45),
    "ovo": MethodRule(by_api=True, partial=False, window_days=7),
    "kredivo": MethodRule(by_api=True, partial=True, window_days=14),
    "akulaku": MethodRule(by_api=True, partial=True),
    "bank_transfer": MethodRule(by_api=False),
    "echannel": MethodRule(by_api=False),
    "cstore": MethodRule(by_api=False),
}
_UNKNOWN = MethodRule(by_api=False)


class PartialRefundNotSupported(ValueError):
    """The method can only be refunded in full (by API)."""


@dataclass(frozen=True)
class RefundPlan:
    method: RefundMethod
    cancel: bool = False  # a captured, unsettled card: /cancel, not /refund
    why: str = ""


def plan_refund(
    payment_type: str | None,
    *,
    amount: int,
    refundable: int,
    captured_unsettled: bool,
    paid_at: datetime | None,
    now: datetime,
    partial_by_payout: bool,
) -> RefundPlan:
    """How a refund of `amount` (of `refundable` left) is carried out.

    `partial_by_payout`: a partial refund on a method without partial refunds becomes a payout
    (ticket-service's refund must end with the money back) instead of a refusal (an admin's).
    """
    partial = amount < refundable
    if captured_unsettled:
        if partial:
            raise PartialRefundNotSupported(
                "A card payment that has not settled can only be cancelled in full."
            )
        return RefundPlan(RefundMethod.API, cancel=True, why="captured card: cancel")
    rule = METHOD_RULES.get(payment_type or "", _UNKNOWN)
    if not rule.by_api:
        return RefundPlan(RefundMethod.PAYOUT, why=f"{payment_type}: no refund API")
    window = rule.window_days
    if window is not None and paid_at is not None and now > paid_at + timedelta(days=window):
        return RefundPlan(RefundMethod.PAYOUT, why=f"{payment_type}: past its {window}-day window")
    if partial and not rule.partial:
        if not partial_by_payout:
            raise PartialRefundNotSupported(
                f"{payment_type} payments can only be refunded in full through Midtrans."
            )
        return RefundPlan(RefundMethod.PAYOUT, why=f"{payment_type}: no partial refunds")
    return RefundPlan(RefundMethod.API)


@dataclass(frozen=True)
class KnownRefund:
    refund_key: str
    amount: int
    method: RefundMethod
    status: RefundStatus


@dataclass(frozen=True)
class GatewayRefund:
    """One entry of Midtrans' `refunds[]` (or, without the list, the unexplained total)."""

    refund_key: str | None
    amount: int
    reason: str | None = None


@dataclass(frozen=True)
class RefundMatch:
    confirmed: tuple[str, ...]  # our API refunds Midtrans now shows as done
    external: tuple[GatewayRefund, ...]  # refunds made elsewhere (the dashboard)


def match_refunds(
    ours: Sequence[KnownRefund],
    gateway: Sequence[GatewayRefund] | None,
    refunded_total: int,
) -> RefundMatch:
    """What Midtrans' refund list (or, without one, its refunded total) says about our refunds.

    With the list, refunds are matched by refund_key. Without it, our unfinished API refunds are
    confirmed oldest first while the total covers them, and what is left is one refund made
    elsewhere. `ours` is in creation order.
    """
    api = [r for r in ours if r.method is RefundMethod.API]
    if gateway is not None:
        keys = {g.refund_key for g in gateway if g.refund_key}
        confirmed = tuple(
            r.refund_key for r in api if r.status in UNFINISHED and r.refund_key in keys
        )
        known = {r.refund_key for r in ours}
        return RefundMatch(confirmed, tuple(g for g in gateway if g.refund_key not in known))
    left = refunded_total - sum(r.amount for r in api if r.status is RefundStatus.SUCCEEDED)
    confirmed_keys: list[str] = []
    for r in api:
        if r.status in UNFINISHED and r.amount <= left:
            confirmed_keys.append(r.refund_key)
            left -= r.amount
    waiting = any(r.status in UNFINISHED and r.refund_key not in confirmed_keys for r in api)
    external = (GatewayRefund(None, left),) if left > 0 and not waiting else ()
    return RefundMatch(tuple(confirmed_keys), external)


# ----- the buyer's bank account for a payout -----

_BANK_CODE = re.compile(r"^[a-z0-9_]{2,20}$")
_ACCOUNT = re.compile(r"^\d{5,20}$")
_HOLDER = re.compile(r"^[^\W\d_][\w .,'-]{1,99}$")


class InvalidBankAccount(ValueError):
    """The bank code, account number or holder name is not one a transfer could go to."""


@dataclass(frozen=True)
class BankAccount:
    bank_code: str
    account_number: str
    holder_name: str

    @classmethod
    def parse(cls, bank_code: str, account_number: str, holder_name: str) -> "BankAccount":
        code = bank_code.strip().lower()
        number = re.sub(r"[\s-]", "", account_number)
        holder = " ".join(holder_name.split())
        problems = []
        if not _BANK_CODE.fullmatch(code):
            problems.append("bank_code: 2-20 of a-z 0-9 _ (e.g. bca, bni, mandiri, 014)")
        if not _ACCOUNT.fullmatch(number):
            problems.append("account_number: 5-20 digits")
        if not _HOLDER.fullmatch(holder):
            problems.append("holder_name: 2-100 characters, starting with a letter")
        if problems:
            raise InvalidBankAccount("; ".join(problems))
        return cls(code, number, holder)

    @property
    def masked_number(self) -> str:
        return "*" * (len(self.account_number) - 4) + self.account_number[-4:]


def gateway_refunds(body: dict[str, object]) -> list[GatewayRefund] | None:
    """Midtrans' `refunds[]` of a notification or status answer; None when the body has none."""
    entries = body.get("refunds")
    if not isinstance(entries, list):
        return None
    found: list[GatewayRefund] = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        amount = _rupiah(entry.get("refund_amount"))
        if amount is None or amount <= 0:
            continue
        key = entry.get("refund_key")
        if not isinstance(key, str) or not key:
            chargeback_id = entry.get("refund_chargeback_id")
            key = f"midtrans-{chargeback_id}" if chargeback_id is not None else None
        reason = entry.get("reason")
        found.append(GatewayRefund(key, amount, reason if isinstance(reason, str) else None))
    return found


def _rupiah(value: object) -> int | None:
    try:
        number = float(str(value))
    except ValueError:
        return None
    return int(number) if number == int(number) else None


@dataclass(frozen=True)
class Refund:
    """One refund of a payment, as the buyer and admins follow it."""

    refund_id: uuid.UUID
    refund_key: str
    order_id: str
    user_id: str  # the buyer (the payment's user)
    amount: int
    reason: str
    source: str
    requested_by: str | None
    method: RefundMethod
    status: RefundStatus
    attempts: int
    last_error: str | None
    bank_account: "BankAccount | None"
    payout_reference: str | None
    paid_out_by: str | None
    paid_out_at: datetime | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    ticket_ids: tuple[str, ...] = ()  # the tickets it pays back (empty: not per ticket)

    def known(self) -> KnownRefund:
        return KnownRefund(self.refund_key, self.amount, self.method, self.status)
