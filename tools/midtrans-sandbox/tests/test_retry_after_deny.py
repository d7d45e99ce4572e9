"""Snap lets the buyer pay again after a declined card; each attempt is its own transaction."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta


def midtrans_time(text):
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")


def declined(sandbox, hook, amount=10000):
    order_id, snap = sandbox.create(hook=hook, amount=amount)
    response = sandbox.pay(order_id, "credit_card", "deny")
    assert response.status_code == 200, response.text
    assert response.json()["can_pay_again"] is True
    return order_id, response.json()["transaction"]["transaction_id"], snap


def test_declined_card_then_another_method_is_a_new_transaction_and_status_tells_the_latest(
    sandbox, hook, signature_of
):
    order_id, denied_id, _ = declined(sandbox, hook)
    response = sandbox.pay(order_id, "gopay", "settlement")
    assert response.status_code == 200, response.text
    order = response.json()
    retry_id = order["transaction"]["transaction_id"]
    assert retry_id != denied_id
    assert [a["transaction_status"] for a in order["attempts"]] == ["deny", "settlement"]
    assert order["can_pay_again"] is False

    latest = sandbox.status(order_id).json()
    assert (latest["transaction_id"], latest["payment_type"]) == (retry_id, "gopay")
    assert latest["transaction_status"] == "settlement"
    first = sandbox.status(denied_id).json()
    assert (first["payment_type"], first["transaction_status"]) == ("credit_card", "deny")

    received = [r["body"] for r in sandbox.receiver.wait_for(hook, 3)]
    assert [(b["transaction_id"], b["transaction_status"], b["status_code"]) for b in received] == [
        (denied_id, "deny", "202"),
        (retry_id, "pending", "201"),
        (retry_id, "settlement", "200"),
    ]
    for body in received:
        assert body["order_id"] == order_id
        assert body["signature_key"] == signature_of(body, sandbox.server_key)


def test_declined_card_then_the_same_method_again_without_naming_it(sandbox, hook):
    order_id, denied_id, _ = declined(sandbox, hook)
    again = sandbox.pay(order_id, None, "settlement").json()["transaction"]
    assert again["transaction_id"] != denied_id
    assert again["payment_type"] == "credit_card"
    assert again["history"] == ["capture", "settlement"]


def test_a_second_decline_can_be_retried_too(sandbox, hook):
    order_id, _, _ = declined(sandbox, hook)
    assert sandbox.pay(order_id, "credit_card", "deny").json()["can_pay_again"] is True
    order = sandbox.pay(order_id, "qris", "settlement").json()
    assert [a["transaction_status"] for a in order["attempts"]] == ["deny", "deny", "settlement"]


def test_challenged_card_denied_by_fraud_detection_while_paying_can_be_retried(sandbox, hook):
    order_id, _ = sandbox.create(hook=hook)
    sandbox.pay(order_id, "credit_card", "challenge")
    assert sandbox.pay(order_id, None, "deny").json()["can_pay_again"] is True
    assert sandbox.pay(order_id, "gopay", "pending").status_code == 200


def test_no_retry_once_the_merchant_denied_a_challenged_card(sandbox, hook):
    order_id, _ = sandbox.create(hook=hook)
    sandbox.pay(order_id, "credit_card", "challenge")
    assert sandbox.core("POST", f"/v2/{order_id}/deny").status_code == 200
    response = sandbox.pay(order_id, "gopay", "settlement")
    assert response.status_code == 409
    assert sandbox.status(order_id).json()["transaction_status"] == "deny"


def test_no_retry_after_a_settlement_was_reversed_to_deny(sandbox, hook):
    order_id, _ = sandbox.create(hook=hook)
    sandbox.pay(order_id, "bank_transfer", "settlement", bank="permata")
    sandbox.pay(order_id, None, "deny")
    assert sandbox.pay(order_id, "credit_card", "settlement").status_code == 409


def test_no_retry_after_a_denied_e_wallet_payment(sandbox, hook):
    order_id, _ = sandbox.create(hook=hook)
    sandbox.pay(order_id, "gopay", "deny")
    assert sandbox.pay(order_id, "credit_card", "settlement").status_code == 409


def test_retry_refuses_a_method_outside_enabled_payments(sandbox, hook):
    order_id, _ = sandbox.create(hook=hook, extra={"enabled_payments": ["credit_card", "gopay"]})
    sandbox.pay(order_id, "credit_card", "deny")
    assert sandbox.pay(order_id, "bca_va", "settlement").status_code == 409
    assert sandbox.pay(order_id, "gopay", "settlement").status_code == 200


def test_concurrent_retries_of_one_declined_order_settle_it_once(sandbox, hook):
    order_id, _, _ = declined(sandbox, hook)
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def retry(payment_type: str) -> None:
        barrier.wait()
        statuses.append(sandbox.pay(order_id, payment_type, "settlement").status_code)

    threads = [
        threading.Thread(target=retry, args=("gopay" if i % 2 else "credit_card",))
        for i in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [409] * 7
    attempts = sandbox.http.get(f"/_sandbox/orders/{order_id}").json()["attempts"]
    assert [a["transaction_status"] for a in attempts] == ["deny", "settlement"]


def test_payment_page_offers_paying_again_after_a_declined_card(sandbox, hook):
    order_id, snap = sandbox.create(
        hook=hook, extra={"callbacks": {"finish": "http://merchant.test/done"}}
    )
    declined_answer = sandbox.http.post(
        f"{snap['redirect_url']}/pay", data={"method": "credit_card", "outcome": "deny"}
    )
    assert declined_answer.status_code == 303
    assert "transaction_status=deny" in declined_answer.headers["location"]
    page = sandbox.http.get(snap["redirect_url"])
    assert "declined" in page.text
    assert "name='method'" in page.text
    paid = sandbox.http.post(
        f"{snap['redirect_url']}/pay", data={"method": "bni_va", "outcome": "settlement"}
    )
    assert paid.status_code == 303
    assert "transaction_status=settlement" in paid.headers["location"]
    status = sandbox.status(order_id).json()
    assert (status["payment_type"], status["va_numbers"][0]["bank"]) == ("bank_transfer", "bni")


def test_a_retry_keeps_the_expiry_clock_of_the_first_attempt(sandbox, hook):
    expiry = {"expiry": {"unit": "minute", "duration": 10}}
    order_id, _ = sandbox.create(hook=hook, extra=expiry)
    first = sandbox.pay(order_id, "credit_card", "deny").json()["transaction"]
    sandbox.http.post("/_sandbox/clock", json={"advance_seconds": 300})
    retry = sandbox.pay(order_id, "gopay", "pending").json()["transaction"]
    status = sandbox.status(order_id).json()
    assert status["transaction_id"] == retry["transaction_id"]
    first_time = midtrans_time(sandbox.status(first["transaction_id"]).json()["transaction_time"])
    # The first attempt's clock: its transaction_time + 10 minutes, not the retry's.
    assert midtrans_time(retry["expiry_time"]) == first_time + timedelta(minutes=10)
    assert midtrans_time(status["expiry_time"]) == first_time + timedelta(minutes=10)
    sandbox.http.post("/_sandbox/clock", json={"advance_seconds": 301})
    assert sandbox.status(order_id).json()["transaction_status"] == "expire"


def test_no_retry_once_the_snap_expiry_has_passed(sandbox, hook):
    order_id, _ = sandbox.create(hook=hook, extra={"expiry": {"unit": "minute", "duration": 10}})
    sandbox.pay(order_id, "credit_card", "deny")
    sandbox.http.post("/_sandbox/clock", json={"advance_seconds": 601})
    response = sandbox.pay(order_id, "gopay", "settlement")
    assert response.status_code == 409
    assert response.json() == {"error": "the order has expired"}
