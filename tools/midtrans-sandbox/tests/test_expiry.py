"""Snap expiry: a pending transaction past its expiry_time becomes expire, with a notification."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def parse(text):
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")


def test_expiry_counts_from_choosing_the_method(sandbox, hook):
    order_id, _ = sandbox.create(hook=hook, extra={"expiry": {"unit": "minutes", "duration": 30}})
    sandbox.pay(order_id, "bank_transfer", "pending")
    pending = sandbox.receiver.wait_for(hook, 1)[0]["body"]
    delta = parse(pending["expiry_time"]) - parse(pending["transaction_time"])
    assert delta == timedelta(minutes=30)


def test_default_expiry_per_method(sandbox, hook):
    for payment_type, expected in (
        ("bank_transfer", timedelta(hours=24)),
        ("gopay", timedelta(minutes=15)),
    ):
        order_id, _ = sandbox.create(hook=hook)
        sandbox.pay(order_id, payment_type, "pending")
        status = sandbox.status(order_id).json()
        assert parse(status["expiry_time"]) - parse(status["transaction_time"]) == expected


def test_pending_transaction_expires_when_its_time_passes(sandbox, hook):
    order_id, _ = sandbox.create(hook=hook, extra={"expiry": {"unit": "minute", "duration": 5}})
    sandbox.pay(order_id, "qris", "pending")
    sandbox.receiver.wait_for(hook, 1)
    response = sandbox.http.post("/_sandbox/clock", json={"advance_seconds": 301})
    assert response.json()["expired"] == 1
    expired = sandbox.receiver.wait_for(hook, 2)[-1]["body"]
    assert (expired["transaction_status"], expired["status_code"]) == ("expire", "202")
    status = sandbox.status(order_id).json()
    assert (status["transaction_status"], status["status_code"]) == ("expire", "407")


def jakarta(moment):
    return (moment + timedelta(hours=7)).strftime("%Y-%m-%d %H:%M:%S +0700")


def test_background_sweep_expires_without_anyone_asking(sandbox, hook):
    # A fixed deadline one to two seconds away, in real time: nobody calls the sandbox meanwhile.
    start = jakarta(datetime.now(UTC) - timedelta(seconds=298))
    order_id, _ = sandbox.create(
        hook=hook, extra={"expiry": {"start_time": start, "unit": "minute", "duration": 5}}
    )
    assert sandbox.pay(order_id, "cstore", "pending").status_code == 200
    received = sandbox.receiver.wait_for(hook, 2, timeout=4)
    assert [r["body"]["transaction_status"] for r in received] == ["pending", "expire"]


def test_settled_transaction_does_not_expire(sandbox, hook):
    order_id, _ = sandbox.create(hook=hook, extra={"expiry": {"unit": "minute", "duration": 5}})
    sandbox.pay(order_id, "gopay", "settlement")
    sandbox.http.post("/_sandbox/clock", json={"advance_seconds": 3600})
    assert sandbox.status(order_id).json()["transaction_status"] == "settlement"


def test_order_past_a_fixed_expiry_cannot_be_paid(sandbox, hook):
    start = jakarta(datetime.now(UTC))
    order_id, _ = sandbox.create(
        hook=hook, extra={"expiry": {"start_time": start, "unit": "minutes", "duration": 10}}
    )
    sandbox.http.post("/_sandbox/clock", json={"advance_seconds": 601})
    response = sandbox.pay(order_id, "gopay", "settlement")
    assert response.status_code == 409
    assert sandbox.status(order_id).status_code == 404


def test_token_expires_after_page_expiry(sandbox, hook):
    _, snap = sandbox.create(hook=hook, extra={"page_expiry": {"duration": 1, "unit": "hours"}})
    assert sandbox.http.get(snap["redirect_url"]).status_code == 200
    sandbox.http.post("/_sandbox/clock", json={"advance_seconds": 3601})
    assert sandbox.http.get(snap["redirect_url"]).status_code == 410
