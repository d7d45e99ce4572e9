"""The seed's public endpoints: create-snap-token and status, in the seed's request format."""

import base64
import json

SNAP = "/api/payment/create-snap-token"


def seed_body(order_id: str, amount: float | int = 150_000, **overrides: object) -> dict:
    body = {
        "order_id": order_id,
        "amount": amount,
        "customer_name": "Siti Rahma",
        "customer_email": "siti@example.id",
        "customer_phone": "+628123456789",
        "event_id": "event-1",
        "user_id": "user-42",
    }
    body.update(overrides)
    return body


async def create_snap_token(stack, body: dict, user: str = "user-42"):
    return await stack.http.post(
        f"{stack.service_url}{SNAP}", json=body, headers=stack.token(user, "user")
    )


async def test_the_owner_gets_the_order_s_snap_token_in_the_seed_s_format(stack) -> None:
    opened = (await stack.open()).json()["data"]
    # The Flutter client sends the amount as a double.
    response = await create_snap_token(stack, seed_body(opened["order_id"], 150000.0))
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data == {
        "token": opened["snap_token"],
        "redirect_url": opened["redirect_url"],
        "order_id": opened["order_id"],
        "expires_at": opened["expires_at"],
    }


async def test_someone_else_s_order_is_404_and_a_wrong_amount_is_refused(stack) -> None:
    order_id = await stack.opened()
    other = await create_snap_token(stack, seed_body(order_id, user_id="mallory"), user="mallory")
    assert other.status_code == 404
    unknown = await create_snap_token(stack, seed_body("TIX-does-not-exist"))
    assert unknown.status_code == 404
    cheaper = await create_snap_token(stack, seed_body(order_id, 1_000))
    assert cheaper.status_code == 409
    assert cheaper.json()["error"]["code"] == "amount_mismatch"
    fraction = await create_snap_token(stack, seed_body(order_id, 150000.5))
    assert fraction.status_code == 422
    anonymous = await stack.http.post(f"{stack.service_url}{SNAP}", json=seed_body(order_id))
    assert anonymous.status_code == 401


async def test_an_expired_snap_page_is_renewed_while_the_hold_stands(stack) -> None:
    opened = (await stack.open()).json()["data"]
    order_id = opened["order_id"]
    await stack.db.execute(
        "UPDATE payments SET snap_token_expires_at = now() - interval '1 second'"
        " WHERE order_id = $1",
        order_id,
    )
    response = await create_snap_token(stack, seed_body(order_id))
    assert response.status_code == 200, response.text
    renewed = response.json()["data"]["token"]
    assert renewed != opened["snap_token"]
    order = (await stack.http.get(f"{stack.sandbox_url}/_sandbox/orders/{order_id}")).json()
    assert order["token"] == renewed
    again = await create_snap_token(stack, seed_body(order_id))
    assert again.json()["data"]["token"] == renewed


async def test_a_page_expired_after_a_method_was_picked_keeps_its_token(stack) -> None:
    opened = (await stack.open()).json()["data"]
    order_id = opened["order_id"]
    await stack.pay(order_id, "bank_transfer", "pending")
    await stack.wait_status(order_id, "pending")
    await stack.db.execute(
        "UPDATE payments SET snap_token_expires_at = now() - interval '1 second'"
        " WHERE order_id = $1",
        order_id,
    )
    response = await create_snap_token(stack, seed_body(order_id))
    assert response.status_code == 200, response.text
    assert response.json()["data"]["token"] == opened["snap_token"]


async def test_a_paid_order_has_no_snap_token_to_give(stack) -> None:
    order_id = await stack.opened()
    await stack.pay(order_id, "gopay", "settlement")
    await stack.wait_status(order_id, "settled")
    response = await create_snap_token(stack, seed_body(order_id))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "payment_closed"


async def test_status_shows_our_state_and_midtrans_live_answer(stack) -> None:
    order_id = await stack.opened()
    url = f"{stack.service_url}/api/payment/status/{order_id}"
    before = await stack.http.get(url, headers=stack.token("user-42"))
    assert before.status_code == 200
    data = before.json()["data"]
    assert (data["order_id"], data["status"], data["amount"]) == (order_id, "created", 150_000)
    assert data["midtrans"] is None  # no method picked: Midtrans has no transaction yet
    await stack.pay(order_id, "bank_transfer", "pending")
    await stack.wait_status(order_id, "pending")
    after = (await stack.http.get(url, headers=stack.token("user-42"))).json()["data"]
    assert after["status"] == "pending"
    assert after["midtrans"]["transaction_status"] == "pending"
    assert after["midtrans"]["order_id"] == order_id
    admin = await stack.http.get(url, headers=stack.token("admin-1", "admin"))
    assert admin.status_code == 200
    other = await stack.http.get(url, headers=stack.token("mallory"))
    assert other.status_code == 404


def _service_of(line: str) -> str | None:
    """The service a JSON log line names (None for anything else: the sandbox's plain lines)."""
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    return entry.get("service") if isinstance(entry, dict) else None


async def test_the_server_key_and_authorization_never_reach_the_logs(stack) -> None:

    key = stack.env["MIDTRANS_SERVER_KEY"]
    order_id = await stack.opened()
    await stack.http.get(
        f"{stack.service_url}/api/payment/status/{order_id}", headers=stack.token("user-42")
    )
    await stack.notify({"order_id": order_id, "note": f"{key} in a body"})
    text = "\n".join(p.read_text(errors="replace") for p in stack.logs.glob("*.log"))
    lines = [line for line in text.splitlines() if _service_of(line) == "payment-service"]
    assert any("midtrans" in line for line in lines)
    basic = base64.b64encode(f"{key}:".encode()).decode()
    bearer = stack.token("user-42")["Authorization"].split()[1]
    for line in lines:
        assert key not in line
        assert basic not in line
        assert bearer not in line
