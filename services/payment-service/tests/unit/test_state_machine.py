"""The payment state machine, exhaustively: every status against every gateway answer."""

import itertools

import pytest
from payment_service.domain.model import (
    TRANSITIONS,
    EventKind,
    Observation,
    PaymentState,
    PaymentStatus,
    Verdict,
    decide,
    target_status,
)

S = PaymentStatus
AMOUNT = 150_000
GATEWAY_ANSWERS = [
    Observation("pending"),
    Observation("capture", "accept"),
    Observation("capture", "challenge"),
    Observation("capture", "deny"),
    Observation("capture", None),
    Observation("settlement", "accept"),
    Observation("deny", "accept"),
    Observation("deny", "accept", settled_before=True),
    Observation("cancel"),
    Observation("expire"),
    Observation("failure"),
    Observation("refund", refunded_total=AMOUNT),
    Observation("partial_refund", refunded_total=50_000),
    Observation("chargeback", refunded_total=AMOUNT),
    Observation("partial_chargeback", refunded_total=50_000),
    Observation("authorize"),
]


def state(status: PaymentStatus, refunded: int = 0) -> PaymentState:
    return PaymentState(status, AMOUNT, refunded)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (Observation("pending"), S.PENDING),
        (Observation("capture", "accept"), S.CAPTURED),
        (Observation("capture", None), S.CAPTURED),
        (Observation("capture", "challenge"), S.CHALLENGE),
        (Observation("settlement"), S.SETTLED),
        (Observation("deny"), S.DENIED),
        (Observation("deny", settled_before=True), S.REVERSED),
        (Observation("cancel"), S.CANCELLED),
        (Observation("expire"), S.EXPIRED),
        (Observation("failure"), S.FAILED),
        (Observation("refund"), S.REFUNDED),
        (Observation("partial_refund"), S.PARTIALLY_REFUNDED),
        (Observation("chargeback"), S.CHARGED_BACK),
        (Observation("partial_chargeback"), S.PARTIALLY_CHARGED_BACK),
        (Observation("something_new"), None),
    ],
)
def test_each_transaction_status_maps_to_one_of_ours(
    answer: Observation, expected: PaymentStatus | None
) -> None:
    assert target_status(answer) == expected


@pytest.mark.parametrize(
    ("current", "answer"), list(itertools.product(list(PaymentStatus), GATEWAY_ANSWERS))
)
def test_every_status_against_every_answer_is_decided_consistently(
    current: PaymentStatus, answer: Observation
) -> None:
    refunded = 50_000 if current in {S.PARTIALLY_REFUNDED, S.PARTIALLY_CHARGED_BACK} else 0
    refunded = AMOUNT if current in {S.REFUNDED, S.CHARGED_BACK} else refunded
    decision = decide(state(current, refunded), answer)
    if decision.verdict is Verdict.APPLIED:
        assert decision.status in TRANSITIONS[current] or decision.status == current
        assert decision.refunded_amount >= refunded
    else:
        assert decision.status == current
        assert decision.refunded_amount == refunded
        assert decision.events == ()
    # Applying the same answer again never changes anything more.
    after = state(decision.status, decision.refunded_amount)
    again = decide(after, answer)
    assert again.verdict is not Verdict.APPLIED
    assert again.events == ()


def test_terminal_statuses_never_move() -> None:
    for status, targets in TRANSITIONS.items():
        if not targets:
            for answer in GATEWAY_ANSWERS:
                assert not decide(state(status, AMOUNT), answer).changed


def test_an_ended_unpaid_payment_moves_only_for_money() -> None:
    for ended in (S.EXPIRED, S.CANCELLED, S.FAILED):
        for answer in GATEWAY_ANSWERS:
            decision = decide(state(ended), answer)
            if decision.changed:
                assert decision.events[0] is EventKind.SETTLED


def test_settlement_publishes_settled_once() -> None:
    first = decide(state(S.PENDING), Observation("settlement"))
    assert first.events == (EventKind.SETTLED,)
    assert decide(state(S.SETTLED), Observation("settlement")).verdict is Verdict.DUPLICATE


def test_capture_accept_is_paid_and_its_settlement_publishes_nothing_more() -> None:
    assert decide(state(S.PENDING), Observation("capture", "accept")).events == (EventKind.SETTLED,)
    later = decide(state(S.CAPTURED), Observation("settlement"))
    assert later.changed
    assert later.events == ()


def test_challenge_waits_and_then_accept_pays() -> None:
    held = decide(state(S.CREATED), Observation("capture", "challenge"))
    assert held.status is S.CHALLENGE
    assert held.events == ()
    assert decide(state(S.CHALLENGE), Observation("capture", "accept")).events == (
        EventKind.SETTLED,
    )
    # Issue 10: a deny before payment is a declined attempt, not the end of the order.
    assert decide(state(S.CHALLENGE), Observation("deny")).events == (EventKind.DECLINED,)


@pytest.mark.parametrize("failure", ["cancel", "expire", "failure"])
def test_failures_publish_failed(failure: str) -> None:
    decision = decide(state(S.PENDING), Observation(failure))
    assert decision.events == (EventKind.FAILED,)


def test_pending_after_settlement_is_out_of_order() -> None:
    decision = decide(state(S.SETTLED), Observation("pending"))
    assert decision.verdict is Verdict.OUT_OF_ORDER
    assert decision.status is S.SETTLED


def test_pending_after_expiry_is_out_of_order() -> None:
    assert decide(state(S.EXPIRED), Observation("pending")).verdict is Verdict.OUT_OF_ORDER


def test_settlement_after_expiry_is_late_money_applied_and_published() -> None:
    # Issue 10 changed this (it was a flagged conflict): the buyer paid, so ticket-service must
    # hear payment.settled and give the seat back or ask for a refund.
    for ended in (S.EXPIRED, S.CANCELLED, S.FAILED):
        decision = decide(state(ended), Observation("settlement"))
        assert decision.verdict is Verdict.APPLIED
        assert decision.status is S.SETTLED
        assert decision.events == (EventKind.SETTLED,)


def test_settlement_reversed_to_deny_fails_the_payment() -> None:
    decision = decide(state(S.SETTLED), Observation("deny", settled_before=True))
    assert decision.status is S.REVERSED
    assert decision.events == (EventKind.FAILED,)


def test_reversal_seen_before_its_settlement_fails_and_the_settlement_is_then_stale() -> None:
    reversed_first = decide(state(S.PENDING), Observation("deny", settled_before=True))
    assert reversed_first.status is S.REVERSED
    assert reversed_first.events == (EventKind.FAILED,)
    late = decide(state(S.REVERSED), Observation("settlement"))
    assert not late.changed


def test_refund_after_settlement_publishes_refunded_with_amounts() -> None:
    decision = decide(state(S.SETTLED), Observation("refund", refunded_total=AMOUNT))
    assert decision.status is S.REFUNDED
    assert decision.refunded_amount == AMOUNT
    assert decision.events == (EventKind.REFUNDED,)


def test_refund_seen_before_its_settlement_publishes_settled_then_refunded() -> None:
    decision = decide(state(S.PENDING), Observation("refund", refunded_total=AMOUNT))
    assert decision.events == (EventKind.SETTLED, EventKind.REFUNDED)
    assert not decide(state(S.REFUNDED, AMOUNT), Observation("settlement")).changed


def test_partial_refunds_accumulate_and_a_repeat_changes_nothing() -> None:
    first = decide(state(S.SETTLED), Observation("partial_refund", refunded_total=50_000))
    assert first.refunded_amount == 50_000
    repeat = decide(
        state(S.PARTIALLY_REFUNDED, 50_000), Observation("partial_refund", refunded_total=50_000)
    )
    assert repeat.verdict is Verdict.DUPLICATE
    more = decide(
        state(S.PARTIALLY_REFUNDED, 50_000), Observation("partial_refund", refunded_total=80_000)
    )
    assert more.changed
    assert more.refunded_amount == 80_000
    assert more.events == (EventKind.REFUNDED,)
    full = decide(state(S.PARTIALLY_REFUNDED, 80_000), Observation("refund"))
    assert full.refunded_amount == AMOUNT


def test_stale_partial_refund_after_full_refund_is_ignored() -> None:
    decision = decide(
        state(S.REFUNDED, AMOUNT), Observation("partial_refund", refunded_total=50_000)
    )
    assert decision.verdict is Verdict.OUT_OF_ORDER


def test_chargeback_after_settlement_is_accepted() -> None:
    decision = decide(state(S.SETTLED), Observation("chargeback"))
    assert decision.status is S.CHARGED_BACK
    assert decision.events == (EventKind.REFUNDED,)


def test_unknown_status_is_ignored_and_flagged() -> None:
    decision = decide(state(S.PENDING), Observation("teleported"))
    assert decision.verdict is Verdict.UNKNOWN_STATUS
    assert decision.status is S.PENDING


def test_every_sequence_of_a_normal_life_ends_in_the_same_place_in_any_order() -> None:
    """pending -> settlement -> refund, delivered in every order, ends refunded, events once."""
    life = [
        Observation("pending"),
        Observation("settlement"),
        Observation("refund", refunded_total=AMOUNT),
    ]
    for order in itertools.permutations(life):
        current = state(S.CREATED)
        published: list[EventKind] = []
        for answer in [*order, *order]:
            decision = decide(current, answer)
            published.extend(decision.events)
            current = state(decision.status, decision.refunded_amount)
        assert current.status is S.REFUNDED
        assert published.count(EventKind.SETTLED) == 1
        assert published.count(EventKind.REFUNDED) == 1
