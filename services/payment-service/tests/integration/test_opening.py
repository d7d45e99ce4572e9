"""Opening a payment: the internal call, idempotency by order_id, Midtrans refusals."""

import asyncio
import json


async def test_opening_returns_a_snap_token_and_stores_the_payment(stack) -> None:
    response = await stack.open()
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert set(data) == {"order_id", "snap_token", "redirect_url", "expires_at", "status"}
    assert data["status"] == "created"
    assert data["redirect_url"].endswith(data["snap_token"])
    order = (await stack.http.get(f"{stack.sandbox_url}/_sandbox/orders/{data['order_id']}")).json()
    assert order["token"] == data["snap_token"]
    assert order["notification_urls"] == [f"{stack.service_url}/api/payment/notification"]
    calls = await stack.db.fetch(
        "SELECT operation, http_status FROM gateway_calls WHERE order_id = $1", data["order_id"]
    )
    assert [(c["operation"], c["http_status"]) for c in calls] == [("snap.create", 201)]
    trail = await stack.db.fetch(
        """SELECT from_status, to_status, source, verdict, reason, gateway_body
             FROM payment_transitions WHERE order_id = $1""",
        data["order_id"],
    )
    assert [(t["from_status"], t["to_status"], t["source"], t["verdict"]) for t in trail] == [
        ("created", "created", "api", "applied")
    ]
    assert trail[0]["reason"].startswith("payment opened: Snap token issued, page until ")
    assert json.loads(trail[0]["gateway_body"])["token"] == data["snap_token"]


async def test_the_same_order_opened_concurrently_gets_one_snap_transaction(stack) -> None:
    order_id = stack.new_order_id()
    responses = await asyncio.gather(*(stack.open(order_id=order_id) for _ in range(12)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 11 + [201]
    assert len({r.json()["data"]["snap_token"] for r in responses}) == 1
    creates = await stack.db.fetchval(
        "SELECT count(*) FROM gateway_calls WHERE order_id = $1 AND operation = 'snap.create'",
        order_id,
    )
    assert creates == 1


async def test_the_same_order_with_another_amount_is_a_conflict(stack) -> None:
    order_id = await stack.opened()
    response = await stack.open(order_id=order_id, amount=99_000)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "order_conflict"
    other_user = await stack.open(order_id=order_id, user_id="someone-else")
    assert other_user.status_code == 409


async def test_a_midtrans_refusal_is_a_502_with_its_messages(stack) -> None:
    # An order id Midtrans already has a transaction for (made outside this service).
    order_id = stack.new_order_id()
    snap = {"transaction_details": {"order_id": order_id, "gross_amount": 1000}}
    assert (await stack.core("POST", "/snap/v1/transactions", json=snap)).status_code == 201
    await stack.pay(order_id, "gopay", "pending")
    response = await stack.open(order_id=order_id)
    assert response.status_code == 502, response.text
    error = response.json()["error"]
    assert error["code"] == "midtrans_refused"
    assert "order_id has already been taken" in error["message"]
    assert error["details"]["error_messages"] == [
        "transaction_details.order_id has already been taken"
    ]


async def test_a_phone_midtrans_would_refuse_is_left_out_rather_than_failing(stack) -> None:
    response = await stack.open(phone="call me maybe")
    assert response.status_code == 201, response.text


async def test_opening_needs_a_service_token(stack) -> None:
    # A user's token (even one claiming the service role) is not a service token: 401.
    response = await stack.http.post(
        f"{stack.service_url}/internal/payments",
        json={},
        headers=stack.token("user-1", "user", "service"),
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_service_token"
    anonymous = await stack.http.post(f"{stack.service_url}/internal/payments", json={})
    assert anonymous.status_code == 401


async def test_invalid_requests_are_422(stack) -> None:
    bad = {"order_id": "has space", "amount": 0}
    response = await stack.http.post(
        f"{stack.service_url}/internal/payments", json=bad, headers=stack.service_headers
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_a_hold_that_already_ended_cannot_be_opened(stack) -> None:
    from datetime import timedelta

    order_id = stack.new_order_id()
    response = await stack.open(order_id=order_id, hold=timedelta(seconds=20))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "hold_expired"
    assert (
        await stack.db.fetchval("SELECT count(*) FROM payments WHERE order_id = $1", order_id) == 0
    )


async def test_a_midtrans_outage_is_a_503_and_the_retry_opens_the_payment(stack) -> None:
    order_id = stack.new_order_id()
    stack.sandbox.stop()
    try:
        response = await stack.open(order_id=order_id)
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "midtrans_unavailable"
    finally:
        await stack.sandbox.start()
    retried = await stack.open(order_id=order_id)
    assert retried.status_code == 201
    assert retried.json()["data"]["snap_token"]
