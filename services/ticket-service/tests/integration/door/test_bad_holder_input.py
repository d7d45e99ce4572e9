"""Correcting a holder: null for a required detail is a 422, not a 500 (issue 11, item 6)."""

from typing import Any

import pytest


@pytest.mark.parametrize("field", ["holder_name", "holder_email"])
async def test_null_for_a_holder_detail_is_refused_and_changes_nothing(
    door: Any, field: str
) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    host = door.auth(event["host_id"], "host")
    async with door.client() as client:
        refused = await client.put(f"/tickets/{ticket['id']}", json={field: None}, headers=host)
        after = await client.put(f"/tickets/{ticket['id']}", json={}, headers=host)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "validation_error"
    assert refused.json()["error"]["details"]["fields"][0]["field"] == field
    assert after.status_code == 200
    assert after.json()["data"]["holder_name"] == "Siti Rahma"


async def test_null_phone_removes_it_and_a_name_with_a_line_break_is_refused(door: Any) -> None:
    event = await door.event()
    ticket = await door.ticket(event)
    host = door.auth(event["host_id"], "host")
    async with door.client() as client:
        cleared = await client.put(
            f"/tickets/{ticket['id']}", json={"holder_phone": None}, headers=host
        )
        broken = await client.put(
            f"/tickets/{ticket['id']}", json={"holder_name": "Siti\r\nRahma"}, headers=host
        )
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["data"]["holder_phone"] is None
    assert broken.status_code == 422
