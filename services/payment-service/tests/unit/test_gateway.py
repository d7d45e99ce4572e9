"""Signatures, amounts, observations, instructions and refund keys."""

import json

import pytest
from payment_service.domain.gateway import (
    InvalidSignature,
    MalformedNotification,
    expected_signature,
    observation_from,
    parse_notification,
    parse_rupiah,
    payment_instructions,
    refund_key,
    verify_signature,
)

KEY = "askvnoibnosifnboseofinbofinfgbiufglnbfg"


def test_signature_matches_the_reference_test_vector() -> None:
    assert expected_signature("1111", "200", "100000.00", KEY) == (
        "edc076b21793ebe3e17926350f5b8ae67d902fe657b3d0aa31b932d5c127e237"
        "5d308a2bc94f3265ac2d80a1f181a79b997ac178a236fcff35af263fc4d4c231"
    )


def body(**overrides: str) -> dict[str, str]:
    b = {
        "order_id": "1111",
        "status_code": "200",
        "gross_amount": "100000.00",
        "transaction_status": "settlement",
    }
    b.update(overrides)
    b.setdefault(
        "signature_key", expected_signature(b["order_id"], b["status_code"], b["gross_amount"], KEY)
    )
    return b


def test_a_signed_notification_verifies() -> None:
    verify_signature(parse_notification(json.dumps(body()).encode()), KEY)


def test_a_tampered_amount_breaks_the_signature() -> None:
    signed = body()
    signed["gross_amount"] = "1000.00"
    with pytest.raises(InvalidSignature):
        verify_signature(parse_notification(json.dumps(signed).encode()), KEY)


def test_a_signature_with_another_key_is_refused() -> None:
    signed = body()
    signed["signature_key"] = expected_signature("1111", "200", "100000.00", "other")
    with pytest.raises(InvalidSignature):
        verify_signature(parse_notification(json.dumps(signed).encode()), KEY)


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b'"x"', b'{"order_id": 5}', b"\xff\xfe"])
def test_malformed_bodies_are_refused(raw: bytes) -> None:
    with pytest.raises(MalformedNotification):
        parse_notification(raw)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("150000.00", 150000),
        ("150000", 150000),
        (150000, 150000),
        ("150000.50", None),
        ("abc", None),
        (None, None),
        (True, None),
        ("NaN", None),
    ],
)
def test_rupiah_amounts_are_whole(value: object, expected: int | None) -> None:
    assert parse_rupiah(value) == expected


def test_observation_reads_refunds_and_reversal() -> None:
    obs = observation_from(
        {
            "transaction_status": "deny",
            "settlement_time": "2024-03-20 11:11:04",
            "refunds": [{"refund_amount": "1000.00"}, {"refund_amount": "500.00"}],
        }
    )
    assert obs.settled_before
    assert obs.refunded_total == 1500


def test_instructions_come_from_va_numbers_and_bill_keys() -> None:
    assert payment_instructions({"va_numbers": [{"bank": "bca", "va_number": "123"}]}) == {
        "va_numbers": [{"bank": "bca", "va_number": "123"}]
    }
    assert payment_instructions({"biller_code": "70012", "bill_key": "9"}) == {
        "biller_code": "70012",
        "bill_key": "9",
    }
    assert payment_instructions({"payment_type": "gopay"}) is None


def test_refund_key_is_stable_and_midtrans_safe() -> None:
    key = refund_key("TIX~1.a", "ticket-refund")
    assert key == refund_key("TIX~1.a", "ticket-refund")
    assert key != refund_key("TIX~1.a", "admin:x")
    assert all(c.isalnum() or c in "-_" for c in key)
    assert len(key) <= 100
