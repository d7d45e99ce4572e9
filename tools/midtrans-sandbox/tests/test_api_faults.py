"""Injected Snap / Core failures: 5xx bodies as Midtrans sends them, and slow answers."""

from __future__ import annotations

import time

import pytest


def inject(sandbox, **body):
    response = sandbox.http.post("/_sandbox/faults/api", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def snap_body(order_id):
    return {"transaction_details": {"order_id": order_id, "gross_amount": 1000}}


def test_snap_answers_500_as_midtrans_then_recovers(sandbox):
    inject(sandbox, api="snap", status=500, count=2)
    for _ in range(2):
        response = sandbox.snap(snap_body("f-1"))
        assert response.status_code == 500
        assert response.json() == {
            "error_messages": [
                "Sorry, we encountered internal server error. We will fix this soon."
            ],
            "locale": "en",
        }
    assert sandbox.snap(snap_body("f-1")).status_code == 201


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (500, "Sorry. Our system is recovering from unexpected issues. Please retry."),
        (503, "Bank/partner is experiencing connection issue."),
    ],
)
def test_core_answers_5xx_with_status_code_body(sandbox, hook, status, message):
    order_id, _ = sandbox.create(hook=hook)
    sandbox.pay(order_id, "gopay", "pending")
    inject(sandbox, api="core", status=status)
    response = sandbox.status(order_id)
    assert response.status_code == status
    assert response.json() == {"status_code": str(status), "status_message": message}
    assert sandbox.status(order_id).status_code == 200


def test_slow_answer_is_delayed_but_correct(sandbox):
    inject(sandbox, api="snap", delay_seconds=0.3)
    started = time.monotonic()
    response = sandbox.snap(snap_body("slow-1"))
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 201


def test_api_faults_are_listed_validated_and_reset(sandbox):
    assert (
        sandbox.http.post("/_sandbox/faults/api", json={"api": "x", "status": 500}).status_code
        == 400
    )
    assert (
        sandbox.http.post("/_sandbox/faults/api", json={"api": "core", "status": 404}).status_code
        == 400
    )
    assert sandbox.http.post("/_sandbox/faults/api", json={"api": "core"}).status_code == 400
    inject(sandbox, api="core", status=503, count=3)
    assert len(sandbox.http.get("/_sandbox/faults").json()["api"]["core"]) == 3
    sandbox.http.post("/_sandbox/reset")
    assert sandbox.http.get("/_sandbox/faults").json()["api"] == {"snap": [], "core": []}


def test_rate_limit_answers_429(sandbox, hook):
    order_id, _ = sandbox.create(hook=hook)
    inject(sandbox, api="core", status=429)
    response = sandbox.core("POST", f"/v2/{order_id}/cancel")
    assert response.status_code == 429
    assert response.json()["status_code"] == "429"
    inject(sandbox, api="snap", status=429)
    assert sandbox.snap(snap_body("rate-1")).status_code == 429
