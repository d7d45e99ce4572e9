"""The paid path inside the service suite: purchase, the sandbox pays, the ticket turns active."""

import asyncio
from typing import Any

import httpx


async def pay(
    stack: Any, order_id: str, outcome: str = "settlement", payment_type: str = "bank_transfer"
) -> None:
    method = {"payment_type": payment_type}
    if payment_type == "bank_transfer":
        method["bank"] = "bca"
    async with httpx.AsyncClient(base_url=stack.sandbox_url, timeout=10) as client:
        response = await client.post(
            f"/_sandbox/orders/{order_id}/pay", json={**method, "outcome": outcome}
        )
    assert response.status_code == 200, response.text


async def delivered(stack: Any, order_id: str, status: str) -> bool:
    """payment-service answered the sandbox's notification of `status` with a 2xx."""
    async with httpx.AsyncClient(base_url=stack.sandbox_url, timeout=10) as client:
        log = (await client.get("/_sandbox/notifications", params={"order_id": order_id})).json()
    ids = {
        n["notification_id"]
        for n in log["notifications"]
        if n["body"]["transaction_status"] == status
    }
    return any(a["success"] and a["notification_id"] in ids for a in log["attempts"])


async def test_sandbox_settlement_activates_the_ticket_through_payment_service(stack: Any) -> None:
    event = await stack.put_event(price=150_000, capacity=2)
    ticket = (await stack.buy(event)).json()["data"]

    await pay(stack, ticket["payment"]["order_id"])

    async def active() -> bool:
        return bool(await stack.ticket_status(ticket["id"]) == "active")

    await stack.eventually(active, timeout=15)
    row = await stack.ticket_row(ticket["id"])
    assert row["transaction_status"] == "completed"
    assert row["payment_method"] == "bank_transfer" and row["payment_gateway_id"]
    assert await stack.seats(event["id"]) == {"capacity": 2, "sold": 1, "held": 0}


async def test_a_declined_card_keeps_the_ticket_pending_and_a_retry_activates_it(
    stack: Any,
) -> None:
    # Issue 10 changed this (a deny used to cancel the ticket): in Snap the buyer may retry.
    event = await stack.put_event(price=150_000, capacity=1)
    ticket = (await stack.buy(event)).json()["data"]
    order_id = ticket["payment"]["order_id"]

    await pay(stack, order_id, outcome="deny", payment_type="credit_card")

    async def deny_delivered() -> bool:
        return await delivered(stack, order_id, "deny")

    await stack.eventually(deny_delivered, timeout=15)
    await asyncio.sleep(0.5)  # time enough for a (wrong) cancellation to arrive
    assert await stack.ticket_status(ticket["id"]) == "pending"
    assert await stack.seats(event["id"]) == {"capacity": 1, "sold": 0, "held": 1}

    await pay(stack, order_id, outcome="settlement", payment_type="credit_card")

    async def active() -> bool:
        return bool(await stack.ticket_status(ticket["id"]) == "active")

    await stack.eventually(active, timeout=15)
    assert await stack.seats(event["id"]) == {"capacity": 1, "sold": 1, "held": 0}
