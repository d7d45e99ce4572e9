"""Control calls other services test against: lost notifications, dashboard and bank actions."""

from __future__ import annotations

import threading
import time

import pytest


def settled(sandbox, hook, payment_type="credit_card", amount=10000):
    order_id, _ = sandbox.create(hook=hook, amount=amount)
    response = sandbox.pay(order_id, payment_type, "settlement")
    assert response.status_code == 200, response.text
    return order_id


def dashboard(sandbox, order_id, **body):
    return sandbox.http.post(f"/_sandbox/orders/{order_id}/dashboard", json=body)


def sent_statuses(sandbox, order_id):
    sent = sandbox.log(order_id)["notifications"]
    return [n["body"]["transaction_status"] for n in sent]


# ----- pay with "notify": false -----


def test_pay_without_notify_changes_the_state_but_sends_nothing(sandbox, hook):
    order_id, _ = sandbox.create(hook=hook)
    response = sandbox.pay(order_id, "bank_transfer", "settlement", notify=False)
    assert response.status_code == 200
    assert response.json()["transaction"]["history"] == ["pending", "settlement"]
    assert sandbox.status(order_id).json()["transaction_status"] == "settlement"
    assert sandbox.log(order_id) == {"notifications": [], "attempts": [], "in_flight": 0}
    time.sleep(0.2)
    assert sandbox.receiver.received(hook) == []


def test_a_lost_notification_is_followed_by_later_ones_as_usual(sandbox, hook):
    order_id, _ = sandbox.create(hook=hook)
    sandbox.pay(order_id, "gopay", "pending", notify=False)
    sandbox.pay(order_id, None, "settlement")
    received = sandbox.receiver.wait_for(hook, 1)
    assert [r["body"]["transaction_status"] for r in received] == ["settlement"]
    assert sent_statuses(sandbox, order_id) == ["settlement"]


def test_pay_refuses_a_notify_that_is_not_a_boolean(sandbox, hook):
    order_id, _ = sandbox.create(hook=hook)
    response = sandbox.pay(order_id, "gopay", "settlement", notify="no")
    assert response.status_code == 400
    assert response.json() == {"error": "notify must be true or false"}
    assert sandbox.status(order_id).status_code == 404


# ----- capture that is not settled yet, then cancel -----


def test_captured_card_not_yet_settled_is_cancelled_by_the_core_api(sandbox, hook, signature_of):
    order_id, _ = sandbox.create(hook=hook)
    captured = sandbox.pay(order_id, "credit_card", "capture").json()["transaction"]
    assert (captured["transaction_status"], captured["fraud_status"]) == ("capture", "accept")
    status = sandbox.status(order_id).json()
    assert (status["transaction_status"], status["status_code"]) == ("capture", "200")
    assert "settlement_time" not in status
    cancelled = sandbox.core("POST", f"/v2/{order_id}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["transaction_status"] == "cancel"
    assert sandbox.status(order_id).json()["transaction_status"] == "cancel"
    received = [r["body"] for r in sandbox.receiver.wait_for(hook, 2)]
    assert [(b["transaction_status"], b["status_code"]) for b in received] == [
        ("capture", "200"),
        ("cancel", "202"),
    ]
    assert received[-1]["signature_key"] == signature_of(received[-1], sandbox.server_key)


# ----- dashboard and bank actions -----


def test_dashboard_refund_shows_in_status_and_is_notified(sandbox, hook, signature_of):
    order_id = settled(sandbox, hook)
    response = dashboard(sandbox, order_id, action="refund")
    assert response.status_code == 200, response.text
    view = response.json()["transaction"]
    assert (view["transaction_status"], view["refund_amount"]) == ("refund", "10000.00")
    assert view["refunds"][0]["kind"] == "refund"
    status = sandbox.status(order_id).json()
    assert (status["transaction_status"], status["status_code"]) == ("refund", "200")
    assert status["refund_amount"] == "10000.00"
    assert [r["refund_amount"] for r in status["refunds"]] == ["10000.00"]
    received = sandbox.receiver.wait_for(hook, 3)[-1]["body"]
    assert (received["transaction_status"], received["refund_amount"]) == ("refund", "10000.00")
    assert received["signature_key"] == signature_of(received, sandbox.server_key)


def test_dashboard_partial_refund_then_the_rest_by_api(sandbox, hook):
    order_id = settled(sandbox, hook, "gopay")
    partial = dashboard(sandbox, order_id, action="partial_refund", amount=3000)
    assert partial.json()["transaction"]["transaction_status"] == "partial_refund"
    status = sandbox.status(order_id).json()
    assert (status["transaction_status"], status["refund_amount"]) == ("partial_refund", "3000.00")
    too_much = sandbox.core("POST", f"/v2/{order_id}/refund", {"amount": 7001})
    assert too_much.status_code == 414
    rest = sandbox.core("POST", f"/v2/{order_id}/refund", {"refund_key": "rest"}).json()
    assert (rest["transaction_status"], rest["refund_amount"]) == ("refund", "7000.00")
    final = sandbox.status(order_id).json()
    assert final["refund_amount"] == "10000.00"
    assert [r["refund_amount"] for r in final["refunds"]] == ["3000.00", "7000.00"]
    assert sent_statuses(sandbox, order_id) == ["pending", "settlement", "partial_refund", "refund"]


@pytest.mark.parametrize(
    ("steps", "status"),
    [
        ([{"action": "chargeback"}], "chargeback"),
        ([{"action": "partial_chargeback", "amount": 4000}], "partial_chargeback"),
        (
            [{"action": "partial_chargeback", "amount": 4000}, {"action": "chargeback"}],
            "chargeback",
        ),
        (
            [{"action": "partial_refund", "amount": 1000}, {"action": "chargeback"}],
            "chargeback",
        ),
    ],
)
def test_chargebacks_show_in_status_and_are_notified(sandbox, hook, steps, status):
    order_id = settled(sandbox, hook)
    for step in steps:
        assert dashboard(sandbox, order_id, **step).status_code == 200
    body = sandbox.status(order_id).json()
    assert (body["transaction_status"], body["status_code"]) == (status, "200")
    expected = "10000.00" if status == "chargeback" else "4000.00"
    assert body["refund_amount"] == expected
    received = sandbox.receiver.wait_for(hook, 2 + len(steps))
    assert received[-1]["body"]["transaction_status"] == status


def test_settlement_reversed_by_the_bank_becomes_deny(sandbox, hook):
    order_id = settled(sandbox, hook, "echannel")
    response = dashboard(sandbox, order_id, action="reverse")
    assert response.status_code == 200
    status = sandbox.status(order_id).json()
    assert (status["transaction_status"], status["status_code"]) == ("deny", "202")
    received = sandbox.receiver.wait_for(hook, 3)[-1]["body"]
    assert (received["transaction_status"], received["status_code"]) == ("deny", "202")
    assert response.json()["can_pay_again"] is False


@pytest.mark.parametrize(
    "step",
    [
        {"action": "refund"},
        {"action": "partial_refund", "amount": 100},
        {"action": "chargeback"},
        {"action": "reverse"},
    ],
)
def test_dashboard_action_without_notify_changes_status_silently(sandbox, hook, step):
    order_id = settled(sandbox, hook, "qris")
    assert dashboard(sandbox, order_id, notify=False, **step).status_code == 200
    assert sandbox.status(order_id).json()["transaction_status"] != "settlement"
    assert sent_statuses(sandbox, order_id) == ["pending", "settlement"]


@pytest.mark.parametrize(
    ("payment_type", "outcome", "body", "http", "message"),
    [
        ("gopay", "settlement", {"action": "bogus"}, 400, "action must be one of"),
        ("gopay", "settlement", {}, 400, "action must be a string"),
        ("gopay", "settlement", {"action": "partial_refund"}, 400, "needs an amount between"),
        (
            "gopay",
            "settlement",
            {"action": "partial_refund", "amount": 10000},
            400,
            "needs an amount between 1 and 9999",
        ),
        ("gopay", "settlement", {"action": "refund", "amount": 5}, 400, "use partial_refund"),
        ("gopay", "settlement", {"action": "refund", "amount": "5"}, 400, "must be an integer"),
        ("gopay", "settlement", {"action": "reverse", "amount": 5}, 400, "reverse takes no"),
        ("gopay", "settlement", {"action": "refund", "notify": 0}, 400, "notify must be"),
        ("gopay", "pending", {"action": "refund"}, 409, "a pending transaction cannot"),
        ("gopay", "pending", {"action": "reverse"}, 409, "cannot be reversed"),
        ("bank_transfer", "settlement", {"action": "refund"}, 409, "does not refund"),
        ("cstore", "settlement", {"action": "partial_refund", "amount": 1}, 409, "does not"),
    ],
)
def test_dashboard_refusals(sandbox, hook, payment_type, outcome, body, http, message):
    order_id, _ = sandbox.create(hook=hook)
    sandbox.pay(order_id, payment_type, outcome)
    response = dashboard(sandbox, order_id, **body)
    assert response.status_code == http
    assert message in response.json()["error"]
    assert sandbox.status(order_id).json()["transaction_status"] == outcome


def test_dashboard_on_unknown_order_or_order_without_payment(sandbox, hook):
    assert dashboard(sandbox, "no-such-order", action="refund").status_code == 404
    order_id, _ = sandbox.create(hook=hook)
    assert dashboard(sandbox, order_id, action="refund").status_code == 409


def test_bank_transfer_can_be_charged_back_even_though_it_cannot_be_refunded(sandbox, hook):
    order_id = settled(sandbox, hook, "bank_transfer")
    assert dashboard(sandbox, order_id, action="chargeback").status_code == 200
    assert sandbox.status(order_id).json()["transaction_status"] == "chargeback"


def test_concurrent_api_and_dashboard_refunds_never_give_back_more_than_was_paid(sandbox, hook):
    order_id = settled(sandbox, hook, amount=10000)
    barrier = threading.Barrier(12)
    answers: list[int] = []

    def api_refund(i: int) -> None:
        barrier.wait()
        body = {"refund_key": f"race-{i}", "amount": 1500}
        answers.append(sandbox.core("POST", f"/v2/{order_id}/refund", body).status_code)

    def dashboard_refund() -> None:
        barrier.wait()
        answers.append(
            dashboard(sandbox, order_id, action="partial_refund", amount=1500).status_code
        )

    threads = [threading.Thread(target=api_refund, args=(i,)) for i in range(6)]
    threads += [threading.Thread(target=dashboard_refund) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 6 of 1,500 fit into 10,000 (9,000); the rest are refused, none over-refunds.
    assert answers.count(200) == 6
    assert all(a in {200, 400, 414} for a in answers)
    status = sandbox.status(order_id).json()
    assert status["refund_amount"] == "9000.00"
    assert len(status["refunds"]) == 6
