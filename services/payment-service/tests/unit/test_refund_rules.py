"""Refund rules per method, matching Midtrans' refund list, and the payout's bank account."""

from datetime import UTC, datetime, timedelta

import pytest
from payment_service.domain.refunds import (
    METHOD_RULES,
    BankAccount,
    GatewayRefund,
    InvalidBankAccount,
    KnownRefund,
    PartialRefundNotSupported,
    RefundMethod,
    RefundStatus,
    gateway_refunds,
    match_refunds,
    plan_refund,
)

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
API, PAYOUT = RefundMethod.API, RefundMethod.PAYOUT
R = RefundStatus


def plan(
    payment_type, amount=150_000, refundable=150_000, days_ago=1, captured=False, lenient=False
):
    return plan_refund(
        payment_type,
        amount=amount,
        refundable=refundable,
        captured_unsettled=captured,
        paid_at=NOW - timedelta(days=days_ago),
        now=NOW,
        partial_by_payout=lenient,
    )


@pytest.mark.parametrize(
    "payment_type",
    ["credit_card", "gopay", "shopeepay", "qris", "dana", "ovo", "kredivo", "akulaku"],
)
def test_methods_midtrans_refunds_go_by_api(payment_type) -> None:
    assert plan(payment_type).method is API


@pytest.mark.parametrize("payment_type", ["bank_transfer", "echannel", "cstore", None, "alien_pay"])
def test_methods_midtrans_cannot_refund_become_payouts(payment_type) -> None:
    assert plan(payment_type).method is PAYOUT
    assert plan(payment_type, amount=10_000).method is PAYOUT  # partial too


@pytest.mark.parametrize(
    ("payment_type", "days"), [("ovo", 7), ("kredivo", 14), ("gopay", 45), ("credit_card", 365)]
)
def test_a_refund_past_the_methods_window_is_paid_out(payment_type, days) -> None:
    assert plan(payment_type, days_ago=days - 1).method is API
    assert plan(payment_type, days_ago=days + 1).method is PAYOUT


def test_akulaku_has_no_window_we_know_of() -> None:
    assert plan("akulaku", days_ago=3000).method is API


@pytest.mark.parametrize("payment_type", ["dana", "ovo"])
def test_a_partial_refund_where_the_method_has_none(payment_type) -> None:
    with pytest.raises(PartialRefundNotSupported):
        plan(payment_type, amount=50_000)  # an admin's: refused
    assert plan(payment_type, amount=50_000, lenient=True).method is PAYOUT  # ticket-service's
    assert plan(payment_type, amount=150_000).method is API


@pytest.mark.parametrize("payment_type", ["credit_card", "gopay", "shopeepay", "qris", "kredivo"])
def test_partial_refunds_where_the_method_has_them(payment_type) -> None:
    assert plan(payment_type, amount=50_000).method is API


def test_the_rest_of_a_partly_refunded_payment_is_not_a_partial_refund() -> None:
    assert plan("dana", amount=100_000, refundable=100_000).method is API


def test_a_captured_card_is_cancelled_in_full_only() -> None:
    cancel = plan("credit_card", captured=True)
    assert (cancel.method, cancel.cancel) == (API, True)
    with pytest.raises(PartialRefundNotSupported):
        plan("credit_card", amount=10_000, captured=True, lenient=True)


def test_every_rule_is_documented_in_one_table() -> None:
    api = {name for name, rule in METHOD_RULES.items() if rule.by_api}
    assert api == {"credit_card", "gopay", "shopeepay", "qris", "dana", "ovo", "kredivo", "akulaku"}


def known(key, amount, status=R.PENDING, method=API) -> KnownRefund:
    return KnownRefund(key, amount, method, status)


def test_midtrans_list_confirms_our_refunds_by_key_and_finds_the_dashboards() -> None:
    ours = [known("a", 50_000), known("b", 20_000), known("p", 10_000, R.AWAITING_PAYOUT, PAYOUT)]
    listed = [GatewayRefund("a", 50_000), GatewayRefund("dash-1", 30_000)]
    match = match_refunds(ours, listed, 80_000)
    assert match.confirmed == ("a",)
    assert match.external == (GatewayRefund("dash-1", 30_000),)


def test_a_refund_already_known_is_neither_confirmed_again_nor_external() -> None:
    ours = [known("a", 50_000, R.SUCCEEDED), known("dash-1", 30_000, R.SUCCEEDED)]
    listed = [GatewayRefund("a", 50_000), GatewayRefund("dash-1", 30_000)]
    assert match_refunds(ours, listed, 80_000) == match_refunds([], [], 0)


def test_a_requested_refund_midtrans_already_shows_is_confirmed() -> None:
    # The call succeeded but we died before recording it: the notification settles it.
    match = match_refunds([known("a", 50_000, R.REQUESTED)], [GatewayRefund("a", 50_000)], 50_000)
    assert match.confirmed == ("a",)


def test_without_a_list_the_total_confirms_oldest_first() -> None:
    ours = [known("a", 50_000), known("b", 20_000)]
    assert match_refunds(ours, None, 50_000).confirmed == ("a",)
    assert match_refunds(ours, None, 50_000).external == ()  # b may still come
    assert match_refunds(ours, None, 70_000).confirmed == ("a", "b")


def test_without_a_list_what_is_unexplained_is_one_external_refund() -> None:
    ours = [known("a", 50_000, R.SUCCEEDED)]
    assert match_refunds(ours, None, 80_000).external == (GatewayRefund(None, 30_000),)
    assert match_refunds(ours, None, 50_000).external == ()


def test_gateway_refunds_reads_midtrans_list_leniently() -> None:
    body = {
        "refunds": [
            {"refund_chargeback_id": 1, "refund_amount": "50000.00", "refund_key": "k1"},
            {"refund_chargeback_id": 2, "refund_amount": "10000.00", "reason": "dashboard"},
            {"refund_amount": "abc"},
            "junk",
        ]
    }
    assert gateway_refunds(body) == [
        GatewayRefund("k1", 50_000),
        GatewayRefund("midtrans-2", 10_000, "dashboard"),
    ]
    assert gateway_refunds({"refund_amount": "5000.00"}) is None


def test_a_bank_account_is_normalised_and_masked() -> None:
    account = BankAccount.parse(" BCA ", "1234-5678 90", "  Siti   Rahma ")
    assert account == BankAccount("bca", "1234567890", "Siti Rahma")
    assert account.masked_number == "******7890"
    assert BankAccount.parse("014", "12345", "Ni Made O'Neil").bank_code == "014"


@pytest.mark.parametrize(
    ("bank", "number", "holder"),
    [
        ("b", "12345", "Siti"),
        ("bca", "12ab45", "Siti"),
        ("bca", "1234", "Siti"),
        ("bca", "12345", "1"),
        ("bca", "12345", ""),
    ],
)
def test_a_bank_account_a_transfer_could_not_reach_is_refused(bank, number, holder) -> None:
    with pytest.raises(InvalidBankAccount):
        BankAccount.parse(bank, number, holder)
