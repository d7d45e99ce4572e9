"""Device tokens: one user's token is never re-assigned to another (issue 11, item 6)."""

import asyncio
import uuid
from typing import Any

Gateway = Any


async def _register(gateway: Gateway, user: str, token: str, platform: str = "android") -> Any:
    return await gateway.client.post(
        "/notifications/devices",
        json={"token": token, "platform": platform},
        headers=gateway.auth(user),
    )


async def _tokens_of(gateway: Gateway, user: str) -> list[str]:
    response = await gateway.client.get("/notifications/devices", headers=gateway.auth(user))
    return [d["token"] for d in response.json()["data"]]


async def test_another_users_token_is_refused_and_stays_with_its_owner(gateway: Gateway) -> None:
    owner, thief = f"owner-{uuid.uuid4().hex[:8]}", f"thief-{uuid.uuid4().hex[:8]}"
    token = f"ok-{uuid.uuid4().hex}"
    assert (await _register(gateway, owner, token)).status_code == 201

    taken = await _register(gateway, thief, token, platform="ios")

    assert taken.status_code == 409, taken.text
    assert taken.json()["error"]["code"] == "device_token_taken"
    assert await _tokens_of(gateway, owner) == [token]
    assert await _tokens_of(gateway, thief) == []
    row = await gateway.db.fetchrow("SELECT user_id, platform FROM devices WHERE token = $1", token)
    assert (row["user_id"], row["platform"]) == (owner, "android")


async def test_the_owner_refreshes_its_own_token(gateway: Gateway) -> None:
    owner, token = f"owner-{uuid.uuid4().hex[:8]}", f"ok-{uuid.uuid4().hex}"
    assert (await _register(gateway, owner, token)).status_code == 201
    again = await _register(gateway, owner, token, platform="ios")
    assert again.status_code == 201
    assert again.json()["data"]["platform"] == "ios"


async def test_two_users_racing_for_one_new_token_one_wins(gateway: Gateway) -> None:
    token = f"ok-{uuid.uuid4().hex}"
    users = [f"racer-{i}-{uuid.uuid4().hex[:6]}" for i in range(8)]

    answers = await asyncio.gather(*(_register(gateway, user, token) for user in users))

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] + [409] * 7, [a.text for a in answers]
    [winner] = [u for u, a in zip(users, answers, strict=True) if a.status_code == 201]
    owner = await gateway.db.fetchval("SELECT user_id FROM devices WHERE token = $1", token)
    assert owner == winner
