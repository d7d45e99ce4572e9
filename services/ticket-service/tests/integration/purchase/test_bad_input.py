"""Bad input gets a clear 4xx in the error envelope, never a 500 (issue 11, item 6)."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest


def _event_body(**changes: Any) -> dict[str, Any]:
    return {
        "title": "Jazz di Taman Menteng",
        "venue": "Taman Menteng, Jakarta",
        "starts_at": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
        "price": 50_000,
        "capacity": 10,
        **changes,
    }


@pytest.mark.parametrize("number", ["Infinity", "-Infinity", "NaN", "1e309"])
async def test_a_purchase_amount_that_is_not_a_finite_number_is_refused(
    stack: Any, number: str
) -> None:
    event = await stack.put_event(price=50_000)
    # Python's json reads these (1e309 as inf); they are not JSON and no amount can be one.
    raw = json.dumps(stack.purchase_body(event, amount="AMOUNT")).replace('"AMOUNT"', number)
    async with stack.client() as client:
        response = await client.post(
            "/tickets/purchase",
            content=raw,
            headers={**stack.auth(f"buyer-{uuid.uuid4()}"), "Content-Type": "application/json"},
        )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert "finite" in response.json()["error"]["message"]
    assert await stack.seats(event["id"]) == {"capacity": 10, "sold": 0, "held": 0}


@pytest.mark.parametrize(
    "title", ["Jazz\r\nBcc: everyone@example.id", "Jazz\nNight", "Jazz\tNight"]
)
async def test_an_event_title_with_control_characters_is_refused(stack: Any, title: str) -> None:
    async with stack.client() as client:
        response = await client.put(
            f"/events/{uuid.uuid4()}",
            json=_event_body(title=title),
            headers=stack.auth(f"host-{uuid.uuid4()}", "host"),
        )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["fields"][0]["field"] == "title"


async def test_a_blank_title_is_refused_and_a_padded_one_is_trimmed(stack: Any) -> None:
    host = stack.auth(f"host-{uuid.uuid4()}", "host")
    async with stack.client() as client:
        blank = await client.put(
            f"/events/{uuid.uuid4()}", json=_event_body(title="   "), headers=host
        )
        padded = await client.put(
            f"/events/{uuid.uuid4()}", json=_event_body(title="  Jazz Night "), headers=host
        )
    assert blank.status_code == 422, blank.text
    assert padded.status_code == 201, padded.text
    assert padded.json()["data"]["title"] == "Jazz Night"
