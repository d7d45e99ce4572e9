"""The payment state machine: Midtrans' statuses mapped onto ours, as one pure table.

Every gateway answer (a notification, a status API answer, a refund or cancel response) is an
`Observation`. `decide(current, observation)` says what it does to a payment: the new status,
the events that the change publishes, and a verdict for the audit log. It never moves a
payment backwards, so duplicates and stale or out-of-order answers change nothing.

The one entry point for "apply what Midtrans says about an order" is
`service_layer.gateway_sync.apply_observation`, which runs `decide` under the payment's row lock.

Two rules of issue 10 live here:
- a `deny` before any payment is a *declined attempt*, not the end: in Snap the buyer may try
  another card or method on the same order, so `denied` stays open (it may still be paid, and
  ends by expiry or cancel); a `deny` after payment is always a reversal;
- money that arrives after the payment failed (settlement after expire or cancel) is applied:
  the buyer paid, so `payment.settled` goes out and ticket-service gives the seat back or asks
  for a refund.
"""

from dataclasses import dataclass, field
from enum import StrEnum


class PaymentStatus(StrEnum):
    CREATED = "created"  # Snap session opened; the customer has not picked a method yet
    PENDING = "pending"  # waiting for the customer to pay (VA, QRIS, e-wallet, 3DS)
    CHALLENGE = "challenge"  # card captured but held by fraud detection; not paid yet
    CAPTURED = "captured"  # card captured and accepted: paid, settles later
    SETTLED = "settled"  # funds received
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    PARTIALLY_CHARGED_BACK = "partially_charged_back"
    CHARGED_BACK = "charged_back"
    DENIED = "denied"  # the last attempt was declined; Snap lets the buyer retry the order
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"
    REVERSED = "reversed"  # a settlement Midtrans turned into `deny` (Permata, Mandiri, Indomaret)


class EventKind(StrEnum):
    PENDING = "payment.pending"
    SETTLED = "payment.settled"
    FAILED = "payment.failed"
    REFUNDED = "payment.refunded"
    DECLINED = "payment.declined"


class Verdict(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # the same status we already hold
    OUT_OF_ORDER = "out_of_order"  # a status the payment has already moved past
    CONFLICT = "conflict"  # contradicts what we hold (e.g. settlement after expire); flagged
    UNKNOWN_STATUS = "unknown_status"  # a transaction_status we do not know; ignored, flagged


OPEN = frozenset(
    {PaymentStatus.CREATED, PaymentStatus.PENDING, PaymentStatus.CHALLENGE, PaymentStatus.DENIED}
)
PAID = frozenset({PaymentStatus.CAPTURED, PaymentStatus.SETTLED})
FAILED_UNPAID = frozenset({PaymentStatus.CANCELLED, PaymentStatus.EXPIRED, PaymentStatus.FAILED})
MONEY_RETURNED = frozenset(
    {
        PaymentStatus.PARTIALLY_REFUNDED,
        PaymentStatus.REFUNDED,
        PaymentStatus.PARTIALLY_CHARGED_BACK,
        PaymentStatus.CHARGED_BACK,
    }
)
# Statuses that can still lose money to a refund or chargeback (some of it still with us).
REFUNDABLE = frozenset(
    {
        PaymentStatus.CAPTURED,
        PaymentStatus.SETTLED,
        PaymentStatus.PARTIALLY_REFUNDED,
        PaymentStatus.PARTIALLY_CHARGED_BACK,
    }
)

_AFTER_PAYMENT = frozenset(
    {
        PaymentStatus.PARTIALLY_REFUNDED,
        PaymentStatus.REFUNDED,
        PaymentStatus.PARTIALLY_CHARGED_BACK,
        PaymentStatus.CHARGED_BACK,
        PaymentStatus.REVERSED,
    }
)
_FAILURES = frozenset(
    {PaymentStatus.DENIED, PaymentStatus.CANCELLED, PaymentStatus.EXPIRED, PaymentStatus.FAILED}
)
_ENDS = frozenset({PaymentStatus.CANCELLED, PaymentStatus.EXPIRED, PaymentStatus.FAILED})
# Money that arrives after the payment ended unpaid: applied, so the buyer is never charged
# without either a ticket or a refund (ticket-service decides which).
_LATE_MONEY = frozenset({*PAID, *_AFTER_PAYMENT} - {PaymentStatus.REVERSED})

# Where each status may go next. A move not listed here is ignored (and audited as such).
TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    PaymentStatus.CREATED: frozenset(
        {PaymentStatus.PENDING, PaymentStatus.CHALLENGE, *PAID, *_FAILURES, *_AFTER_PAYMENT}
    ),
    PaymentStatus.PENDING: frozenset({PaymentStatus.CHALLENGE, *PAID, *_FAILURES, *_AFTER_PAYMENT}),
    PaymentStatus.CHALLENGE: frozenset({*PAID, *_FAILURES, *_AFTER_PAYMENT}),
    # A declined attempt: the buyer may retry (pending, challenge, paid) or the order ends.
    PaymentStatus.DENIED: frozenset(
        {PaymentStatus.PENDING, PaymentStatus.CHALLENGE, *PAID, *_ENDS, *_AFTER_PAYMENT}
    ),
    # A captured card settles, is cancelled by the merchant (or reversed), or is refunded.
    PaymentStatus.CAPTURED: frozenset(
        {PaymentStatus.SETTLED, PaymentStatus.CANCELLED, *_AFTER_PAYMENT}
    ),
    PaymentStatus.SETTLED: frozenset(_AFTER_PAYMENT),
    # Partial refunds and chargebacks accumulate (a larger total is a move forward).
    PaymentStatus.PARTIALLY_REFUNDED: frozenset(
        {
            PaymentStatus.PARTIALLY_REFUNDED,
            PaymentStatus.REFUNDED,
            PaymentStatus.PARTIALLY_CHARGED_BACK,
            PaymentStatus.CHARGED_BACK,
        }
    ),
    PaymentStatus.PARTIALLY_CHARGED_BACK: frozenset(
        {
            PaymentStatus.PARTIALLY_CHARGED_BACK,
            PaymentStatus.CHARGED_BACK,
            PaymentStatus.PARTIALLY_REFUNDED,
            PaymentStatus.REFUNDED,
        }
    ),
    PaymentStatus.REFUNDED: frozenset(),
    PaymentStatus.CHARGED_BACK: frozenset(),
    PaymentStatus.CANCELLED: _LATE_MONEY,
    PaymentStatus.EXPIRED: _LATE_MONEY,
    PaymentStatus.FAILED: _LATE_MONEY,
    PaymentStatus.REVERSED: frozenset(),
}

# How far along the lifecycle a status is; used only to tell "stale" from "contradictory".
_STAGE: dict[PaymentStatus, int] = {
    PaymentStatus.CREATED: 0,
    PaymentStatus.PENDING: 1,
    PaymentStatus.CHALLENGE: 2,
    PaymentStatus.CAPTURED: 3,
    PaymentStatus.SETTLED: 4,
    PaymentStatus.DENIED: 2,
    PaymentStatus.CANCELLED: 5,
    PaymentStatus.EXPIRED: 5,
    PaymentStatus.FAILED: 5,
    PaymentStatus.PARTIALLY_REFUNDED: 5,
    PaymentStatus.PARTIALLY_CHARGED_BACK: 5,
    PaymentStatus.REFUNDED: 6,
    PaymentStatus.CHARGED_BACK: 6,
    PaymentStatus.REVERSED: 6,
}


@dataclass(frozen=True)
class Observation:
    """What the gateway says about a transaction, from any source, parsed leniently."""

    transaction_status: str
    fraud_status: str | None = None
    refunded_total: int = 0  # rupiah refunded or charged back so far, per the gateway
    settled_before: bool = False  # the body carries settlement_time (a `deny` is a reversal)
    payment_type: str | None = None
    transaction_id: str | None = None
    status_message: str | None = None


@dataclass(frozen=True)
class PaymentState:
    status: PaymentStatus
    amount: int
    refunded_amount: int = 0
    currency: str = "IDR"


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    status: PaymentStatus
    refunded_amount: int
    events: tuple[EventKind, ...] = ()
    reason: str | None = None
    target: PaymentStatus | None = None  # what the observation asked for
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return self.verdict is Verdict.APPLIED


def target_status(obs: Observation, current: PaymentStatus | None = None) -> PaymentStatus | None:
    """Midtrans' transaction_status (+ fraud_status) as one of our statuses; None if unknown.

    `current` matters for `deny` only: after a payment it is a reversal, whatever the body says.
    """
    status = obs.transaction_status
    fraud = (obs.fraud_status or "").lower()
    paid_before = current is not None and (current in PAID or current in MONEY_RETURNED)
    if status == "capture":
        if fraud in {"", "accept"}:
            return (
                PaymentStatus.CAPTURED
            )  # accept, or no fraud_status at all (low-risk methods omit it)
        if fraud == "challenge":
            return PaymentStatus.CHALLENGE
        if fraud == "deny":
            return PaymentStatus.REVERSED if paid_before else PaymentStatus.DENIED
        return None  # a fraud verdict we do not know never makes a payment paid
    if status == "settlement":
        return PaymentStatus.SETTLED
    if status == "deny":
        return PaymentStatus.REVERSED if obs.settled_before or paid_before else PaymentStatus.DENIED
    simple = {
        "pending": PaymentStatus.PENDING,
        "authorize": PaymentStatus.PENDING,  # a pre-authorised card: reserved, not yet paid
        "cancel": PaymentStatus.CANCELLED,
        "expire": PaymentStatus.EXPIRED,
        "failure": PaymentStatus.FAILED,
        "refund": PaymentStatus.REFUNDED,
        "partial_refund": PaymentStatus.PARTIALLY_REFUNDED,
        "chargeback": PaymentStatus.CHARGED_BACK,
        "partial_chargeback": PaymentStatus.PARTIALLY_CHARGED_BACK,
    }
    return simple.get(status)


def decide(current: PaymentState, obs: Observation) -> Decision:
    """What `obs` does to a payment in `current`; pure and total."""
    target = target_status(obs, current.status)
    if target is None:
        what = f"{obs.transaction_status} (fraud_status {obs.fraud_status})"
        return _ignore(current, Verdict.UNKNOWN_STATUS, f"unknown status {what}")
    refunded = _refunded_total(current, target, obs)
    if target == current.status and not (
        target in MONEY_RETURNED and refunded > current.refunded_amount
    ):
        return _ignore(current, Verdict.DUPLICATE, f"already {current.status}", target)
    if target not in TRANSITIONS[current.status] or (
        target in MONEY_RETURNED and refunded <= current.refunded_amount
    ):
        verdict = Verdict.CONFLICT if _contradicts(current.status, target) else Verdict.OUT_OF_ORDER
        return _ignore(current, verdict, f"{target} after {current.status}", target)
    return Decision(
        verdict=Verdict.APPLIED,
        status=target,
        refunded_amount=refunded,
        events=_events(current.status, target),
        target=target,
    )


def _refunded_total(current: PaymentState, target: PaymentStatus, obs: Observation) -> int:
    if target not in MONEY_RETURNED:
        return current.refunded_amount
    if target in {PaymentStatus.REFUNDED, PaymentStatus.CHARGED_BACK}:
        return current.amount
    return max(current.refunded_amount, min(obs.refunded_total, current.amount))


def _contradicts(current: PaymentStatus, target: PaymentStatus) -> bool:
    """A move the gateway's own life cycle cannot explain by lateness alone."""
    if current in FAILED_UNPAID and target in FAILED_UNPAID:
        return True  # two different failures
    return _STAGE[target] >= _STAGE[current] and target != current


def _events(before: PaymentStatus, after: PaymentStatus) -> tuple[EventKind, ...]:
    """The events one applied move publishes: each fact exactly once."""
    was_paid = before in PAID or before in MONEY_RETURNED
    if after == PaymentStatus.PENDING:
        return (EventKind.PENDING,)
    if after == PaymentStatus.CHALLENGE:
        return ()
    if after == PaymentStatus.DENIED:
        return (EventKind.DECLINED,)  # not an end: the buyer may retry on the same order
    if after in PAID:
        return () if was_paid else (EventKind.SETTLED,)
    if after in FAILED_UNPAID or after == PaymentStatus.REVERSED:
        return (EventKind.FAILED,)
    if after in MONEY_RETURNED:
        # A refund seen before its settlement means the settlement happened: say both, in order.
        return (EventKind.REFUNDED,) if was_paid else (EventKind.SETTLED, EventKind.REFUNDED)
    raise AssertionError(f"no events defined for {before} -> {after}")


def _ignore(
    current: PaymentState,
    verdict: Verdict,
    reason: str,
    target: PaymentStatus | None = None,
) -> Decision:
    return Decision(
        verdict=verdict,
        status=current.status,
        refunded_amount=current.refunded_amount,
        reason=reason,
        target=target,
    )


def is_open(status: PaymentStatus) -> bool:
    """Still waiting for the customer (also after a declined attempt) or for fraud review."""
    return status in OPEN


def is_paid(status: PaymentStatus) -> bool:
    return status in PAID


def is_late_money(before: PaymentStatus, after: PaymentStatus) -> bool:
    """Money applied after the payment had ended unpaid (expired, cancelled, failed)."""
    return before in FAILED_UNPAID and (after in PAID or after in MONEY_RETURNED)
