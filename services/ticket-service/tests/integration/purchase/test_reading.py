"""Reading tickets and transactions: only one's own, paginated, with ETags for the offline cache."""

import uuid
from typing import Any

OWNER = f"owner-{uuid.uuid4()}"
SNOOP = f"snoop-{uuid.uuid4()}"


async def test_my_tickets_embeds_each_event_and_pages_with_a_cursor(stack: Any) -> None:
    user = f"reader-{uuid.uuid4()}"
    event = await stack.put_event(price=0, capacity=10)
    bought = [(await stack.buy(event, user)).json()["data"]["id"] for _ in range(3)]

    async with stack.client() as client:
        first = await client.get("/tickets/my-tickets?limit=2", headers=stack.auth(user))
        cursor = first.json()["next_cursor"]
        second = await client.get(
            f"/tickets/my-tickets?limit=2&cursor={cursor}", headers=stack.auth(user)
        )

    assert first.status_code == second.status_code == 200
    page1, page2 = first.json()["data"], second.json()["data"]
    assert len(page1) == 2 and len(page2) == 1 and second.json()["next_cursor"] is None
    assert [t["id"] for t in page1 + page2] == list(reversed(bought))  # newest first
    ticket = page1[0]
    assert ticket["event"] == {
        "id": event["id"],
        "title": "Jazz di Taman Menteng",
        "starts_at": event["starts_at"],
        "venue": "Taman Menteng, Jakarta",
    }
    for field in (
        "id",
        "user_id",
        "event_id",
        "attendance_code",
        "price_paid",
        "purchased_at",
        "is_checked_in",
        "checked_in_at",
        "status",
    ):
        assert field in ticket


async def test_my_tickets_answers_304_while_nothing_changed(stack: Any) -> None:
    user = f"cacher-{uuid.uuid4()}"
    event = await stack.put_event(price=0, capacity=10)
    await stack.buy(event, user)

    async with stack.client() as client:
        first = await client.get("/tickets/my-tickets", headers=stack.auth(user))
        etag = first.headers["etag"]
        unchanged = await client.get(
            "/tickets/my-tickets", headers={**stack.auth(user), "If-None-Match": etag}
        )
        await stack.buy(event, user)
        changed = await client.get(
            "/tickets/my-tickets", headers={**stack.auth(user), "If-None-Match": etag}
        )

    assert unchanged.status_code == 304 and unchanged.content == b""
    assert changed.status_code == 200 and len(changed.json()["data"]) == 2
    assert changed.headers["etag"] != etag


async def test_someone_elses_ticket_and_transaction_are_404(stack: Any) -> None:
    event = await stack.put_event(price=0, capacity=10)
    ticket = (await stack.buy(event, OWNER)).json()["data"]
    async with stack.client() as client:
        mine = await client.get(f"/tickets/{ticket['id']}", headers=stack.auth(OWNER))
        theirs = await client.get(f"/tickets/{ticket['id']}", headers=stack.auth(SNOOP))
        transactions = await client.get("/tickets/transactions", headers=stack.auth(OWNER))
        transaction_id = transactions.json()["data"][0]["id"]
        own_tx = await client.get(
            f"/tickets/transactions/{transaction_id}", headers=stack.auth(OWNER)
        )
        their_tx = await client.get(
            f"/tickets/transactions/{transaction_id}", headers=stack.auth(SNOOP)
        )
        missing = await client.get(f"/tickets/{uuid.uuid4()}", headers=stack.auth(OWNER))

    assert mine.status_code == 200 and mine.json()["data"]["id"] == ticket["id"]
    assert (theirs.status_code, theirs.json()["error"]["code"]) == (404, "ticket_not_found")
    assert own_tx.status_code == 200
    assert own_tx.json()["data"]["order_id"] == ticket["order_id"]
    assert their_tx.status_code == 404
    assert missing.status_code == 404


async def test_transactions_list_only_the_callers_with_the_seed_fields(stack: Any) -> None:
    user = f"payer-{uuid.uuid4()}"
    event = await stack.put_event(price=20_000, capacity=10)
    ticket = (await stack.buy(event, user)).json()["data"]
    await stack.buy(event, f"other-{uuid.uuid4()}")

    async with stack.client() as client:
        response = await client.get("/tickets/transactions", headers=stack.auth(user))

    data = response.json()["data"]
    assert len(data) == 1
    tx = data[0]
    assert tx["ticket_id"] == ticket["id"] and tx["user_id"] == user
    assert tx["amount"] == 20_000 and tx["status"] == "pending"
    assert tx["order_id"] == ticket["order_id"]
    for field in ("payment_method", "payment_gateway_id", "created_at", "completed_at"):
        assert field in tx


async def test_a_pending_ticket_shows_its_open_payment_so_the_app_can_resume(stack: Any) -> None:
    user = f"resumer-{uuid.uuid4()}"
    event = await stack.put_event(price=20_000, capacity=10)
    bought = (await stack.buy(event, user)).json()["data"]

    async with stack.client() as client:
        response = await client.get(f"/tickets/{bought['id']}", headers=stack.auth(user))

    ticket = response.json()["data"]
    assert ticket["status"] == "pending"
    assert ticket["payment"]["snap_token"] == bought["payment"]["snap_token"]
    assert ticket["qr_url"] is None


async def test_fixed_paths_are_not_taken_for_ticket_ids(stack: Any) -> None:
    async with stack.client() as client:
        mine = await client.get("/tickets/my-tickets", headers=stack.auth("nobody-yet"))
        txs = await client.get("/tickets/transactions", headers=stack.auth("nobody-yet"))
        junk = await client.get("/tickets/not-a-uuid", headers=stack.auth("nobody-yet"))

    assert mine.json() == {"data": [], "next_cursor": None}
    assert txs.json() == {"data": [], "next_cursor": None}
    assert junk.status_code == 404
