"""Core API: status, cancel, expire, refund, approve, deny, by order_id or transaction_id."""

from __future__ import annotations

import base64

import pytest

CANNOT_MODIFY = {
    "status_code": "412",
    "status_message": "Merchant cannot modify the status of the transaction",
}


def paid(sandbox, hook, payment_type="gopay", outcome="settlement", amount=10000):
    order_id, _ = sandbox.create(hook=hook, amount=amount)
    response = sandbox.pay(order_id, payment_type, outcome)
    assert response.status_code == 200, response.text
    return order_id, response.json()["transaction"]["transaction_id"]


def test_status_is_404_until_a_payment_method_is_chosen(sandbox, hook):
    order_id, _ = sandbox.create(hook=hook)
    response = sandbox.status(order_id)
    assert response.status_code == 404
    body = response.json()
    assert body["status_code"] == "404"
    assert body["status_message"] == "Transaction doesn't exist."
    assert "id" in body


def test_status_of_unknown_order_is_404(sandbox):
    assert sandbox.status("never-created").status_code == 404


@pytest.mark.parametrize("path", ["/v2/x/status", "/v2/x/cancel", "/v2/x/refund"])
def test_core_api_refuses_a_wrong_server_key_with_401(sandbox, path):
    wrong = "Basic " + base64.b64encode(b"SB-Mid-server-nope:").decode()
    method = "GET" if path.endswith("status") else "POST"
    response = sandbox.core(method, path, auth=wrong)
    assert response.status_code == 401
    assert response.json() == {
        "status_code": "401",
        "status_message": "Transaction cannot be authorized with the current client/server key.",
    }


@pytest.mark.parametrize(
    ("payment_type", "outcome", "transaction_status", "status_code", "fraud_status"),
    [
        ("bank_transfer", "pending", "pending", "201", "accept"),
        ("bank_transfer", "settlement", "settlement", "200", "accept"),
        ("gopay", "deny", "deny", "202", "accept"),
        ("qris", "cancel", "cancel", "200", "accept"),
        ("echannel", "expire", "expire", "407", "accept"),
        ("cstore", "failure", "failure", "202", "accept"),
        ("credit_card", "capture", "capture", "200", "accept"),
        ("credit_card", "challenge", "capture", "201", "challenge"),
        ("credit_card", "settlement", "settlement", "200", "accept"),
    ],
)
def test_status_reports_transaction_with_status_code_per_state(
    sandbox, hook, payment_type, outcome, transaction_status, status_code, fraud_status
):
    order_id, transaction_id = paid(sandbox, hook, payment_type, outcome)
    for key in (order_id, transaction_id):
        response = sandbox.status(key)
        assert response.status_code == 200
        body = response.json()
        assert body["transaction_status"] == transaction_status
        assert body["status_code"] == status_code
        assert body["fraud_status"] == fraud_status
        assert body["status_message"] == "Success, transaction is found"
        assert body["order_id"] == order_id
        assert body["transaction_id"] == transaction_id
        assert body["gross_amount"] == "10000.00"
        assert body["currency"] == "IDR"


def test_cancel_pending_transaction(sandbox, hook):
    _, transaction_id = paid(sandbox, hook, "bank_transfer", "pending")
    response = sandbox.core("POST", f"/v2/{transaction_id}/cancel")
    assert response.status_code == 200
    body = response.json()
    assert body["status_code"] == "200"
    assert body["status_message"] == "Success, transaction is canceled"
    assert body["transaction_status"] == "cancel"
    received = sandbox.receiver.wait_for(hook, 2)
    assert [r["body"]["transaction_status"] for r in received] == ["pending", "cancel"]
    assert received[-1]["body"]["status_code"] == "202"


def test_cancel_of_captured_card_payment_is_allowed(sandbox, hook):
    order_id, _ = paid(sandbox, hook, "credit_card", "capture")
    assert sandbox.core("POST", f"/v2/{order_id}/cancel").json()["transaction_status"] == "cancel"


def test_cancel_of_settled_transaction_is_refused_with_412(sandbox, hook):
    order_id, _ = paid(sandbox, hook)
    response = sandbox.core("POST", f"/v2/{order_id}/cancel")
    assert response.status_code == 412
    assert response.json() == CANNOT_MODIFY


@pytest.mark.parametrize("action", ["cancel", "expire", "refund", "approve", "deny"])
def test_actions_on_unknown_or_unpaid_order_answer_404(sandbox, hook, action):
    order_id, _ = sandbox.create(hook=hook)
    for key in (order_id, "nope-123"):
        response = sandbox.core("POST", f"/v2/{key}/{action}")
        assert response.status_code == 404
        assert response.json()["status_code"] == "404"


def test_expire_pending_transaction_answers_407_and_notifies_202(sandbox, hook):
    order_id, _ = paid(sandbox, hook, "bank_transfer", "pending")
    response = sandbox.core("POST", f"/v2/{order_id}/expire")
    assert response.status_code == 200
    body = response.json()
    assert body["status_code"] == "407"
    assert body["status_message"] == "Success, transaction has expired"
    assert body["transaction_status"] == "expire"
    assert sandbox.status(order_id).json()["status_code"] == "407"
    expired = sandbox.receiver.wait_for(hook, 2)[-1]["body"]
    assert (expired["transaction_status"], expired["status_code"]) == ("expire", "202")


def test_expire_of_settled_transaction_is_refused_with_412(sandbox, hook):
    order_id, _ = paid(sandbox, hook)
    response = sandbox.core("POST", f"/v2/{order_id}/expire")
    assert (response.status_code, response.json()) == (412, CANNOT_MODIFY)


def test_full_refund(sandbox, hook):
    order_id, transaction_id = paid(sandbox, hook, "gopay")
    response = sandbox.core(
        "POST", f"/v2/{order_id}/refund", {"refund_key": "r-1", "reason": "Event cancelled"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status_code"] == "200"
    assert body["status_message"] == "Success, refund request is approved"
    assert body["transaction_status"] == "refund"
    assert body["transaction_id"] == transaction_id
    assert body["refund_amount"] == "10000.00"
    assert body["refund_key"] == "r-1"
    assert body["refund_chargeback_id"] == 1
    notification = sandbox.receiver.wait_for(hook, 3)[-1]["body"]
    assert notification["transaction_status"] == "refund"
    assert notification["status_code"] == "200"
    assert notification["refund_amount"] == "10000.00"
    assert notification["refunds"][0]["refund_key"] == "r-1"
    assert notification["refunds"][0]["reason"] == "Event cancelled"


def test_partial_refunds_then_the_rest(sandbox, hook):
    order_id, _ = paid(sandbox, hook, "credit_card")
    first = sandbox.core("POST", f"/v2/{order_id}/refund", {"refund_key": "p-1", "amount": 3000})
    assert first.json()["transaction_status"] == "partial_refund"
    assert first.json()["refund_amount"] == "3000.00"
    status = sandbox.status(order_id).json()
    assert status["transaction_status"] == "partial_refund"
    assert status["refund_amount"] == "3000.00"
    second = sandbox.core("POST", f"/v2/{order_id}/refund", {"refund_key": "p-2", "amount": 7000})
    assert second.json()["transaction_status"] == "refund"
    assert second.json()["refund_chargeback_id"] == 2
    assert sandbox.status(order_id).json()["refund_amount"] == "10000.00"


def test_refund_with_the_same_key_is_an_idempotent_retry(sandbox, hook):
    order_id, _ = paid(sandbox, hook, "qris")
    request = {"refund_key": "same-key", "amount": 4000}
    first = sandbox.core("POST", f"/v2/{order_id}/refund", request).json()
    again = sandbox.core("POST", f"/v2/{order_id}/refund", request).json()
    assert again["refund_chargeback_id"] == first["refund_chargeback_id"]
    assert sandbox.status(order_id).json()["refund_amount"] == "4000.00"


def test_refund_key_reused_for_a_different_amount_is_refused_with_406(sandbox, hook):
    order_id, _ = paid(sandbox, hook, "qris")
    sandbox.core("POST", f"/v2/{order_id}/refund", {"refund_key": "k-1", "amount": 4000})
    response = sandbox.core("POST", f"/v2/{order_id}/refund", {"refund_key": "k-1", "amount": 5000})
    assert response.status_code == 406
    assert response.json() == {"status_code": "406", "status_message": "Duplicate refund ID"}


@pytest.mark.parametrize("amount", [0, -1, 10001, "ten"])
def test_refund_of_invalid_amount_is_refused_with_414(sandbox, hook, amount):
    order_id, _ = paid(sandbox, hook, "gopay")
    response = sandbox.core("POST", f"/v2/{order_id}/refund", {"amount": amount})
    assert response.status_code == 414
    assert response.json() == {
        "status_code": "414",
        "status_message": "Refund request is rejected due to invalid amount",
    }


def test_refund_beyond_what_remains_after_a_partial_refund_is_refused_with_414(sandbox, hook):
    order_id, _ = paid(sandbox, hook, "gopay")
    sandbox.core("POST", f"/v2/{order_id}/refund", {"amount": 6000})
    response = sandbox.core("POST", f"/v2/{order_id}/refund", {"amount": 5000})
    assert response.status_code == 414


def test_refund_of_pending_transaction_is_refused_with_412(sandbox, hook):
    order_id, _ = paid(sandbox, hook, "gopay", "pending")
    response = sandbox.core("POST", f"/v2/{order_id}/refund", {"amount": 1000})
    assert (response.status_code, response.json()) == (412, CANNOT_MODIFY)


def test_refund_of_fully_refunded_transaction_is_refused_with_412(sandbox, hook):
    order_id, _ = paid(sandbox, hook, "gopay")
    sandbox.core("POST", f"/v2/{order_id}/refund", {})
    response = sandbox.core("POST", f"/v2/{order_id}/refund", {})
    assert response.status_code == 412


@pytest.mark.parametrize("payment_type", ["bank_transfer", "echannel", "cstore"])
def test_refund_of_method_midtrans_cannot_refund_is_refused_with_412(sandbox, hook, payment_type):
    order_id, _ = paid(sandbox, hook, payment_type)
    response = sandbox.core("POST", f"/v2/{order_id}/refund", {"amount": 1000})
    assert (response.status_code, response.json()) == (412, CANNOT_MODIFY)


def test_direct_refund_endpoint_refunds_too(sandbox, hook):
    order_id, _ = paid(sandbox, hook, "gopay")
    response = sandbox.core("POST", f"/v2/{order_id}/refund/online/direct", {"amount": 10000})
    assert response.json()["transaction_status"] == "refund"


def test_approve_challenged_card_payment(sandbox, hook):
    _, transaction_id = paid(sandbox, hook, "credit_card", "challenge")
    response = sandbox.core("POST", f"/v2/{transaction_id}/approve")
    assert response.status_code == 200
    body = response.json()
    assert body["status_message"] == "Success, transaction is approved"
    assert (body["transaction_status"], body["fraud_status"], body["status_code"]) == (
        "capture",
        "accept",
        "200",
    )
    received = sandbox.receiver.wait_for(hook, 2)
    assert [(r["body"]["status_code"], r["body"]["fraud_status"]) for r in received] == [
        ("201", "challenge"),
        ("200", "accept"),
    ]


def test_deny_challenged_card_payment(sandbox, hook):
    order_id, _ = paid(sandbox, hook, "credit_card", "challenge")
    response = sandbox.core("POST", f"/v2/{order_id}/deny")
    body = response.json()
    assert body["status_message"] == "Success, transaction is denied"
    assert (body["transaction_status"], body["fraud_status"]) == ("deny", "deny")
    notification = sandbox.receiver.wait_for(hook, 2)[-1]["body"]
    assert (notification["transaction_status"], notification["status_code"]) == ("deny", "202")


@pytest.mark.parametrize("action", ["approve", "deny"])
def test_approve_or_deny_without_challenge_is_refused_with_412(sandbox, hook, action):
    order_id, _ = paid(sandbox, hook, "credit_card", "capture")
    response = sandbox.core("POST", f"/v2/{order_id}/{action}")
    assert (response.status_code, response.json()) == (412, CANNOT_MODIFY)


def test_malformed_refund_body_is_refused_with_413(sandbox, hook):
    order_id, _ = paid(sandbox, hook, "gopay")
    response = sandbox.http.post(
        f"/v2/{order_id}/refund", content=b"[1,2", headers=sandbox.headers()
    )
    assert response.status_code == 413


def test_wrong_method_answers_405_in_midtrans_shape(sandbox):
    response = sandbox.core("GET", "/v2/some-order/cancel")
    assert response.status_code == 405
    assert response.json() == {"status_code": "405", "status_message": "HTTP method is not allowed"}
    snap = sandbox.http.get("/snap/v1/transactions", headers=sandbox.headers())
    assert snap.status_code == 405
    assert snap.json() == {"error_messages": ["HTTP method is not allowed"]}


def test_unknown_core_path_answers_404_in_midtrans_shape(sandbox):
    response = sandbox.core("POST", "/v2/some-order/teleport")
    assert response.status_code == 404
    assert response.json()["status_code"] == "404"
