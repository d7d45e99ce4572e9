"""Which methods Midtrans refunds by API, the refund windows, and the refund notifications."""

from __future__ import annotations

import pytest

CANNOT_MODIFY = {
    "status_code": "412",
    "status_message": "Merchant cannot modify the status of the transaction",
}
DAY = 86400


def settled(sandbox, hook, payment_type):
    order_id, _ = sandbox.create(hook=hook, amount=10000)
    response = sandbox.pay(order_id, payment_type, "settlement")
    assert response.status_code == 200, response.text
    return order_id


def advance(sandbox, seconds):
    assert (
        sandbox.http.post("/_sandbox/clock", json={"advance_seconds": seconds}).status_code == 200
    )


@pytest.mark.parametrize(
    "payment_type",
    ["credit_card", "gopay", "shopeepay", "qris", "dana", "ovo", "kredivo", "akulaku"],
)
def test_refundable_methods_refund_by_api_and_notify(sandbox, hook, payment_type, signature_of):
    order_id = settled(sandbox, hook, payment_type)
    before = len(sandbox.receiver.wait_for(hook, 2))
    partial = sandbox.core("POST", f"/v2/{order_id}/refund", {"refund_key": "a", "amount": 4000})
    assert partial.status_code == 200, partial.text
    assert partial.json()["transaction_status"] == "partial_refund"
    rest = sandbox.core("POST", f"/v2/{order_id}/refund", {"refund_key": "b"})
    assert rest.json()["transaction_status"] == "refund"
    received = [r["body"] for r in sandbox.receiver.wait_for(hook, before + 2)[before:]]
    assert [(b["transaction_status"], b["refund_amount"]) for b in received] == [
        ("partial_refund", "4000.00"),
        ("refund", "10000.00"),
    ]
    assert all(b["payment_type"] == payment_type for b in received)
    assert all(b["signature_key"] == signature_of(b, sandbox.server_key) for b in received)


@pytest.mark.parametrize(
    ("payment_type", "extra"),
    [
        ("bank_transfer", {"bank": "bca"}),
        ("bank_transfer", {"bank": "permata"}),
        ("echannel", {}),
        ("cstore", {"store": "indomaret"}),
        ("cstore", {"store": "alfamart"}),
    ],
)
def test_va_bill_and_store_payments_refuse_refunds_with_412_and_stay_settled(
    sandbox, hook, payment_type, extra
):
    order_id, _ = sandbox.create(hook=hook)
    sandbox.pay(order_id, payment_type, "settlement", **extra)
    for body in ({}, {"amount": 1000, "refund_key": "x"}):
        for path in ("refund", "refund/online/direct"):
            response = sandbox.core("POST", f"/v2/{order_id}/{path}", body)
            assert response.status_code == 412
            assert response.json() == CANNOT_MODIFY
    status = sandbox.status(order_id).json()
    assert status["transaction_status"] == "settlement"
    assert "refunds" not in status
    sent = sandbox.log(order_id)["notifications"]
    assert [n["body"]["transaction_status"] for n in sent] == ["pending", "settlement"]


@pytest.mark.parametrize(
    ("payment_type", "days"),
    [
        ("credit_card", 365),
        ("gopay", 45),
        ("qris", 45),
        ("shopeepay", 365),
        ("dana", 45),
        ("ovo", 7),
        ("kredivo", 14),
    ],
)
def test_refund_inside_the_window_is_taken_and_after_it_refused(sandbox, hook, payment_type, days):
    inside = settled(sandbox, hook, payment_type)
    late = settled(sandbox, hook, payment_type)
    advance(sandbox, days * DAY - 60)
    ok = sandbox.core("POST", f"/v2/{inside}/refund", {"amount": 1000})
    assert ok.status_code == 200, ok.text
    advance(sandbox, 120)
    refused = sandbox.core("POST", f"/v2/{late}/refund", {"amount": 1000})
    assert refused.status_code == 412
    assert refused.json() == CANNOT_MODIFY
    assert sandbox.status(late).json()["transaction_status"] == "settlement"


def test_akulaku_has_no_refund_window(sandbox, hook):
    order_id = settled(sandbox, hook, "akulaku")
    advance(sandbox, 800 * DAY)
    assert sandbox.core("POST", f"/v2/{order_id}/refund", {}).status_code == 200


def test_refund_key_retry_after_the_window_still_returns_the_first_refund(sandbox, hook):
    order_id = settled(sandbox, hook, "ovo")
    first = sandbox.core("POST", f"/v2/{order_id}/refund", {"refund_key": "k", "amount": 500})
    advance(sandbox, 8 * DAY)
    again = sandbox.core("POST", f"/v2/{order_id}/refund", {"refund_key": "k", "amount": 500})
    assert again.status_code == 200
    assert again.json()["refund_chargeback_id"] == first.json()["refund_chargeback_id"]
