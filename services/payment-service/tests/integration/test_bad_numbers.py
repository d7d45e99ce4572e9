"""`Infinity`, `NaN` and `1e309` in a body are a 422, not a 500 (issue 11, item 6)."""

import json

import pytest


@pytest.mark.parametrize("number", ["Infinity", "NaN", "1e309", "-1e309"])
async def test_a_snap_token_amount_that_is_not_finite_is_refused(stack, number: str) -> None:
    response = await stack.http.post(
        f"{stack.service_url}/api/payment/create-snap-token",
        content=f'{{"order_id": "{stack.new_order_id()}", "amount": {number}}}',
        headers={**stack.token("user-1"), "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"


async def test_an_internal_opening_with_an_infinite_price_is_refused(stack) -> None:
    opening = {
        "order_id": stack.new_order_id(),
        "amount": "AMOUNT",
        "customer": {"name": "Siti", "email": "s@x.id"},
        "items": [{"id": "t", "name": "Ticket", "price": "AMOUNT", "quantity": 1}],
        "expires_at": "2030-01-01T00:00:00+07:00",
        "metadata": {"ticket_id": "t", "event_id": "e", "user_id": "u"},
    }
    body = json.dumps(opening).replace('"AMOUNT"', "1e309")
    response = await stack.http.post(
        f"{stack.service_url}/internal/payments",
        content=body,
        headers={**stack.service_headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
