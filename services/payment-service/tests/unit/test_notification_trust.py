"""Issue 10 in the domain: a notification is a hint, checked for consistency and confirmed.

The property test delivers every permutation of a payment's notifications (each twice) to the
notification use case (`receive_notification`) wired with fakes: a status API answering
Midtrans' truth at delivery time and an in-memory ledger that applies the state machine and
numbers the events. Every order must end in the same state with a coherent, strictly numbered
event stream.
"""

import asyncio
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from payment_service.domain.errors import PaymentNotFound, StatusApiUnavailable
from payment_service.domain.gateway import (
    STATUS_CODES,
    AmountTampered,
    InconsistentNotification,
    InvalidSignature,
    MalformedNotification,
    Notification,
    check_consistency,
    gateway_reason,
    observation_from,
    parse_notification,
    verify_signature,
)
from payment_service.domain.model import (
    Decision,
    EventKind,
    Observation,
    PaymentState,
    PaymentStatus,
    Verdict,
    decide,
    is_open,
)
from payment_service.service_layer.notifications import (
    AGREES,
    NotificationDeps,
    NotificationUnconfirmed,
    Received,
    receive_notification,
)
from payment_service.settings import PaymentSettings
from servicekit.settings import InsecureSettings

S = PaymentStatus
AMOUNT = 150_000
KEY = "SB-Mid-server-unit"


def signed(order_id: str, status: str, code: str, **extra: Any) -> dict[str, Any]:
    gross = f"{AMOUNT}.00"
    raw = f"{order_id}{code}{gross}{KEY}".encode()
    return {
        "order_id": order_id,
        "transaction_status": status,
        "status_code": code,
        "gross_amount": gross,
        "currency": "IDR",
        "signature_key": hashlib.sha512(raw).hexdigest(),
        **extra,
    }


def notification(body: dict[str, Any]) -> Notification:
    return parse_notification(json.dumps(body).encode())


# ----- consistency, before anything else -----


def test_a_pending_signature_copied_onto_a_settlement_verifies_but_is_inconsistent() -> None:
    """The issue's attack: the signature does not cover the status, the status_code check does."""
    pending = signed("TIX-1", "pending", "201")
    forged = notification({**pending, "transaction_status": "settlement"})
    verify_signature(forged, KEY)  # still verifies: Midtrans does not sign the status
    with pytest.raises(InconsistentNotification, match="does not fit"):
        check_consistency(forged, amount=AMOUNT, currency="IDR")


@pytest.mark.parametrize(
    ("status", "code"), [(s, c) for s, codes in STATUS_CODES.items() for c in sorted(codes)]
)
def test_each_documented_status_code_pair_is_accepted(status: str, code: str) -> None:
    extra = {"fraud_status": "challenge"} if (status, code) == ("capture", "201") else {}
    check_consistency(
        notification(signed("TIX-1", status, code, **extra)), amount=AMOUNT, currency="IDR"
    )


@pytest.mark.parametrize(
    ("status", "code"),
    [("settlement", "201"), ("refund", "201"), ("chargeback", "202"), ("deny", "200")],
)
def test_a_status_with_another_status_s_code_is_refused(status: str, code: str) -> None:
    with pytest.raises(InconsistentNotification):
        check_consistency(
            notification(signed("TIX-1", status, code)), amount=AMOUNT, currency="IDR"
        )


def test_a_capture_with_201_is_a_challenge_only() -> None:
    body = signed("TIX-1", "capture", "201", fraud_status="accept")
    with pytest.raises(InconsistentNotification, match="challenge"):
        check_consistency(notification(body), amount=AMOUNT, currency="IDR")


def test_another_amount_or_currency_is_refused() -> None:
    body = signed("TIX-1", "settlement", "200")
    with pytest.raises(AmountTampered):
        check_consistency(notification(body), amount=AMOUNT + 1, currency="IDR")
    with pytest.raises(InconsistentNotification, match="currency"):
        check_consistency(notification({**body, "currency": "USD"}), amount=AMOUNT, currency="IDR")


def test_the_reason_of_an_answer_is_midtrans_own_never_a_generic_message() -> None:
    assert gateway_reason({"channel_response_message": "Do not honor"}) == "Do not honor"
    assert gateway_reason({"status_message": "Card is not authenticated."}) == (
        "Card is not authenticated."
    )
    assert gateway_reason({"status_message": "midtrans payment notification"}) is None
    assert gateway_reason({"status_message": "Success, transaction is found"}) is None
    assert gateway_reason(None) is None


# ----- fraud_status, deny, late money -----


@pytest.mark.parametrize(
    ("fraud", "expected"),
    [("accept", S.CAPTURED), (None, S.CAPTURED), ("challenge", S.CHALLENGE), ("deny", S.DENIED)],
)
def test_only_accept_or_no_fraud_status_makes_a_capture_paid(
    fraud: str | None, expected: PaymentStatus
) -> None:
    assert decide(PaymentState(S.PENDING, AMOUNT), Observation("capture", fraud)).status is expected


@pytest.mark.parametrize("fraud", ["review", "ACCEPTED", "unknown", "pending"])
def test_an_unknown_fraud_status_is_never_paid(fraud: str) -> None:
    decision = decide(PaymentState(S.PENDING, AMOUNT), Observation("capture", fraud))
    assert decision.verdict is Verdict.UNKNOWN_STATUS
    assert decision.status is S.PENDING
    assert decision.events == ()


def test_a_deny_before_payment_is_a_declined_attempt_that_keeps_the_order_open() -> None:
    decision = decide(PaymentState(S.PENDING, AMOUNT), Observation("deny"))
    assert decision.status is S.DENIED
    assert decision.events == (EventKind.DECLINED,)
    assert is_open(S.DENIED)


def test_a_settlement_after_a_declined_card_pays_the_order() -> None:
    decision = decide(PaymentState(S.DENIED, AMOUNT), Observation("settlement"))
    assert decision.status is S.SETTLED
    assert decision.events == (EventKind.SETTLED,)
    retry = decide(PaymentState(S.DENIED, AMOUNT), Observation("pending"))
    assert retry.status is S.PENDING  # a retry with a VA starts pending again


@pytest.mark.parametrize("paid", [S.SETTLED, S.CAPTURED])
def test_a_deny_after_payment_is_a_reversal_without_settlement_time(paid: PaymentStatus) -> None:
    decision = decide(PaymentState(paid, AMOUNT), Observation("deny", settled_before=False))
    assert decision.status is S.REVERSED
    assert decision.events == (EventKind.FAILED,)


def test_a_declined_order_ends_by_expiry_or_cancel() -> None:
    for end, status in (("expire", S.EXPIRED), ("cancel", S.CANCELLED)):
        decision = decide(PaymentState(S.DENIED, AMOUNT), Observation(end))
        assert decision.status is status
        assert decision.events == (EventKind.FAILED,)


# ----- settings -----


def test_status_api_confirmation_is_on_by_default_and_only_development_may_turn_it_off() -> None:
    assert PaymentSettings().midtrans_verify_with_status_api is True
    for env in ("test", "production"):
        with pytest.raises(InsecureSettings, match="VERIFY_WITH_STATUS_API"):
            PaymentSettings(
                app_env=env,
                midtrans_verify_with_status_api=False,
                jwt_secret="x" * 40,
                service_token_secret="s" * 40,  # production needs its own (main, service tokens)
                midtrans_server_key="Mid-server-real",
                midtrans_snap_base_url="https://app.midtrans.com/snap/v1",
                midtrans_core_base_url="https://api.midtrans.com",
            )
    assert not PaymentSettings(
        app_env="development", midtrans_verify_with_status_api=False
    ).midtrans_verify_with_status_api


def test_the_notification_key_defaults_to_the_server_key() -> None:
    assert PaymentSettings(midtrans_server_key="SB-a").notification_signing_key == "SB-a"
    other = PaymentSettings(midtrans_server_key="SB-a", midtrans_notification_key="SB-b")
    assert other.notification_signing_key == "SB-b"


# ----- the property: every delivery order of a payment's notifications -----


@dataclass(frozen=True)
class Step:
    """One state Midtrans' transaction really went through, and the notification it sent."""

    status: str
    code: str
    extra: dict[str, Any] = field(default_factory=dict)
    # Only in the status API's answer (Midtrans keeps settlement_time on a reversed settlement).
    status_extra: dict[str, Any] = field(default_factory=dict)


LIVES: dict[str, list[Step]] = {
    # a declined card, a retry by VA, paid, then refunded in two steps
    "declined-retry-refunded": [
        Step("pending", "201"),
        Step("deny", "202", {"fraud_status": "accept"}),
        Step("pending", "201"),
        Step("settlement", "200"),
        Step("partial_refund", "200", {"refund_amount": "50000.00"}),
        Step("refund", "200", {"refund_amount": "150000.00"}),
    ],
    "charged-back": [
        Step("pending", "201"),
        Step("settlement", "200"),
        Step("partial_chargeback", "200", {"refund_amount": "30000.00"}),
        Step("chargeback", "200", {"refund_amount": "150000.00"}),
    ],
    "challenged-card-refunded": [
        Step("capture", "201", {"fraud_status": "challenge"}),
        Step("capture", "200", {"fraud_status": "accept"}),
        Step("settlement", "200", {"fraud_status": "accept"}),
        Step("refund", "200", {"refund_amount": "150000.00"}),
    ],
    "late-money": [Step("pending", "201"), Step("expire", "202"), Step("settlement", "200")],
    # A reversal whose deny notification does not carry settlement_time.
    "reversed": [
        Step("pending", "201"),
        Step("settlement", "200"),
        Step("deny", "202", status_extra={"settlement_time": "2026-12-02 10:00:00"}),
    ],
}
FINAL = {
    "declined-retry-refunded": S.REFUNDED,
    "charged-back": S.CHARGED_BACK,
    "challenged-card-refunded": S.REFUNDED,
    "late-money": S.SETTLED,
    "reversed": S.REVERSED,
}


@dataclass
class FakeStatusApi:
    """Midtrans' status API: the truth at the moment it is asked (it only moves forward)."""

    life: list[Step]
    reached: int = -1
    calls: int = 0
    down: bool = False

    async def status(self, order_id: str) -> dict[str, Any] | None:
        self.calls += 1
        if self.down:
            raise StatusApiUnavailable("Midtrans could not be reached (timeout).")
        if self.reached < 0:
            return None
        step = self.life[self.reached]
        return {
            "order_id": order_id,
            "transaction_status": step.status,
            **step.extra,
            **step.status_extra,
        }


@dataclass
class Published:
    sequence: int
    kind: EventKind
    payment_status: PaymentStatus


@dataclass
class FakeLedger:
    """The payment and its audit log in memory; `apply` numbers events like the SQL does."""

    state: PaymentState = field(default_factory=lambda: PaymentState(S.CREATED, AMOUNT))
    published: list[Published] = field(default_factory=list)
    audit: list[tuple[str, str | None, bool | None]] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)
    flagged: list[str] = field(default_factory=list)

    async def payment(self, order_id: str) -> PaymentState | None:
        return self.state if order_id == "TIX-P" else None

    async def record(self, received: Received, verdict: str, detail: str | None) -> None:
        self.audit.append((verdict, detail, received.signature_valid))

    async def count_dropped(self, verdict: str) -> None:
        self.dropped[verdict] = self.dropped.get(verdict, 0) + 1

    async def refuse(self, received: Received, verdict: str, detail: str) -> None:
        self.audit.append((verdict, detail, received.signature_valid))
        self.flagged.append(detail)

    async def apply(self, received: Received, body: dict[str, Any], reason: str | None) -> Decision:
        decision = decide(self.state, observation_from(body))
        self.audit.append((str(decision.verdict), reason, received.signature_valid))
        for kind in decision.events:
            self.published.append(Published(len(self.published) + 1, kind, decision.status))
        self.state = PaymentState(decision.status, AMOUNT, decision.refunded_amount)
        return decision

    async def record_agreement(
        self, received: Received, detail: str, state: PaymentState
    ) -> Decision | None:
        assert received.notification is not None
        decision = decide(state, observation_from(received.notification.body))
        if decision.verdict is not Verdict.DUPLICATE or state != self.state:
            return None
        self.audit.append((str(decision.verdict), detail, received.signature_valid))
        return decision


@dataclass
class FakeBudget:
    left: int = 1000

    async def admit(self) -> bool:
        self.left -= 1
        return self.left >= 0


def wiring(
    life: list[Step], *, budget: int = 1000, confirm: bool = True
) -> tuple[NotificationDeps, FakeLedger, FakeStatusApi]:
    ledger, api = FakeLedger(), FakeStatusApi(life)
    deps = NotificationDeps(
        ledger=ledger,
        status_api=api,
        invalid_bodies=FakeBudget(budget),
        signing_key=KEY,
        confirm_with_status_api=confirm,
    )
    return deps, ledger, api


def raw(step: Step, order_id: str = "TIX-P") -> bytes:
    return json.dumps(signed(order_id, step.status, step.code, **step.extra)).encode()


async def deliver(life: list[Step], order: tuple[int, ...]) -> tuple[PaymentState, list[Published]]:
    """The notification use case with fakes: each delivery after Midtrans reached its step."""
    deps, ledger, api = wiring(life)
    for index in order:
        api.reached = max(api.reached, index)  # a notification exists: Midtrans got there
        await receive_notification(deps, raw(life[index]), remote_addr="203.0.113.9")
    # One status call per notification, except those claiming the state the payment holds.
    agreed = [entry for entry in ledger.audit if entry[1] == AGREES]
    assert api.calls + len(agreed) == len(order)
    return ledger.state, ledger.published


def orders_of(life: list[Step]) -> list[tuple[int, ...]]:
    """Every permutation, each delivered twice (Midtrans' retries and duplicates)."""
    return [p + p for p in itertools.permutations(range(len(life)))]


@pytest.mark.parametrize("name", list(LIVES))
def test_every_delivery_order_ends_in_the_same_state_with_a_coherent_event_stream(
    name: str,
) -> None:
    life = LIVES[name]
    orders = orders_of(life)
    finals = set()

    async def every_order() -> list[tuple[PaymentState, list[Published]]]:
        return [await deliver(life, order) for order in orders]

    for state, published in asyncio.run(every_order()):
        finals.add(state.status)
        kinds = [p.kind for p in published]
        assert [p.sequence for p in published] == list(range(1, len(published) + 1))
        assert kinds.count(EventKind.SETTLED) <= 1
        assert kinds.count(EventKind.FAILED) <= 1
        if EventKind.REFUNDED in kinds:
            # never a settled after a refund without a refund after it
            last_settled = max(i for i, k in enumerate(kinds) if k is EventKind.SETTLED)
            assert kinds[-1] is EventKind.REFUNDED
            assert last_settled < len(kinds) - 1
        if FINAL[name] in {S.SETTLED, S.REFUNDED, S.CHARGED_BACK}:
            assert EventKind.SETTLED in kinds
        assert published[-1].payment_status is state.status
    assert finals == {FINAL[name]}


def test_the_property_test_tries_every_order() -> None:
    tried = sum(len(orders_of(life)) for life in LIVES.values())
    assert tried == 720 + 24 + 24 + 6 + 6  # 780 delivery orders, each of 2n notifications


# ----- the use case's refusals, with fakes -----

SETTLED_LIFE = [Step("pending", "201"), Step("settlement", "200")]


def run(deps: NotificationDeps, body: bytes) -> Any:
    return asyncio.run(receive_notification(deps, body, remote_addr="203.0.113.9"))


def test_the_copied_pending_signature_is_refused_audited_flagged_and_never_applied() -> None:
    deps, ledger, api = wiring(SETTLED_LIFE)
    api.reached = 0
    forged = {**signed("TIX-P", "pending", "201"), "transaction_status": "settlement"}
    with pytest.raises(InconsistentNotification):
        run(deps, json.dumps(forged).encode())
    assert ledger.audit == [
        ("inconsistent", "status_code 201 does not fit transaction_status settlement", True)
    ]
    assert ledger.flagged
    assert api.calls == 0  # refused before anything else
    assert ledger.state.status is S.CREATED
    assert ledger.published == []


def test_a_claim_the_status_api_contradicts_applies_midtrans_answer() -> None:
    deps, ledger, api = wiring(SETTLED_LIFE)
    api.reached = 0  # Midtrans: pending
    outcome = run(deps, raw(SETTLED_LIFE[1]))
    assert (outcome.verdict, outcome.status) == ("applied", S.PENDING)
    assert ledger.audit[-1][1] == (
        "confirmed with the status API: notification said settlement, Midtrans pending"
    )
    assert [p.kind for p in ledger.published] == [EventKind.PENDING]


def test_a_notification_claiming_the_payments_state_is_a_duplicate_without_a_status_call() -> None:
    deps, ledger, api = wiring(SETTLED_LIFE)
    api.reached = 1
    assert run(deps, raw(SETTLED_LIFE[1])).status is S.SETTLED
    assert api.calls == 1
    api.down = True  # the retry of the same notification needs no answer of Midtrans'
    outcome = run(deps, raw(SETTLED_LIFE[1]))
    assert (outcome.verdict, outcome.status) == ("duplicate", S.SETTLED)
    assert api.calls == 1
    assert ledger.audit[-1] == ("duplicate", AGREES, True)
    assert [p.kind for p in ledger.published] == [EventKind.SETTLED]


def test_an_agreement_the_payment_no_longer_holds_asks_midtrans() -> None:
    """Read pending, then declined before the audit: the pending claim is news again, so the
    status API decides (it says pending: the buyer retried), never the notification itself."""

    class MovedMeanwhile(FakeLedger):
        async def record_agreement(
            self, received: Received, detail: str, state: PaymentState
        ) -> Decision | None:
            self.state = PaymentState(S.DENIED, AMOUNT)
            return await super().record_agreement(received, detail, state)

    ledger, api = MovedMeanwhile(state=PaymentState(S.PENDING, AMOUNT)), FakeStatusApi(SETTLED_LIFE)
    deps = NotificationDeps(
        ledger=ledger,
        status_api=api,
        invalid_bodies=FakeBudget(),
        signing_key=KEY,
        confirm_with_status_api=True,
    )
    api.reached = 0
    outcome = run(deps, raw(SETTLED_LIFE[0]))
    assert api.calls == 1
    assert (outcome.verdict, outcome.status) == ("applied", S.PENDING)
    assert ledger.audit == [("applied", "confirmed with the status API", True)]


def test_a_status_api_outage_is_deferred_and_changes_nothing() -> None:
    deps, ledger, api = wiring(SETTLED_LIFE)
    api.reached, api.down = 1, True
    with pytest.raises(StatusApiUnavailable):
        run(deps, raw(SETTLED_LIFE[1]))
    assert [a[0] for a in ledger.audit] == ["deferred"]
    assert ledger.state.status is S.CREATED
    api.down = False  # Midtrans retries
    assert run(deps, raw(SETTLED_LIFE[1])).status is S.SETTLED


def test_an_order_midtrans_does_not_know_is_unconfirmed() -> None:
    deps, ledger, _ = wiring(SETTLED_LIFE)
    with pytest.raises(NotificationUnconfirmed):
        run(deps, raw(SETTLED_LIFE[1]))
    assert [a[0] for a in ledger.audit] == ["unconfirmed"]
    with pytest.raises(PaymentNotFound):
        run(deps, raw(SETTLED_LIFE[1], order_id="TIX-other"))


def test_without_confirmation_in_development_the_notification_itself_is_applied() -> None:
    deps, _, api = wiring(SETTLED_LIFE, confirm=False)
    assert run(deps, raw(SETTLED_LIFE[1])).status is S.SETTLED
    assert api.calls == 0


def test_invalid_bodies_beyond_the_budget_are_counted_not_stored() -> None:
    deps, ledger, _ = wiring(SETTLED_LIFE, budget=2)
    forged = {**signed("TIX-P", "settlement", "200"), "signature_key": "0" * 128}
    for body in (b"{nope", json.dumps(forged).encode(), b"[]", b"{", json.dumps(forged).encode()):
        with pytest.raises((MalformedNotification, InvalidSignature)):
            run(deps, body)
    assert ledger.audit == [
        ("malformed", "The body is not valid JSON.", None),
        (
            "invalid_signature",
            None,
            False,
        ),
    ]
    assert ledger.dropped == {"malformed": 2, "invalid_signature": 1}
