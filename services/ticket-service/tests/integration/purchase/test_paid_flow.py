"""The paid path inside the service suite: purchase, the sandbox pays, the ticket turns active."""

from typing import Any

import httpx


async def pay(stack: Any, order_id: str, outcome: str = "settlement") -> None:
    async with httpx.AsyncClient(base_url=stack.sandbox_url, timeout=10) as client:
        response = await client.post(
            f"/_sandbox/orders/{order_id}/pay",
            json={"payment_type": "bank_transfer", "bank": "bca", "outcome": outcome},
        )
    assert response.status_code == 200, response.text


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


async def test_sandbox_denial_cancels_the_ticket_and_frees_the_seat(stack: Any) -> None:
    event = await stack.put_event(price=150_000, capacity=1)
    ticket = (await stack.buy(event)).json()["data"]

    await pay(stack, ticket["payment"]["order_id"], outcome="deny")

    async def cancelled() -> bool:
        return bool(await stack.ticket_status(ticket["id"]) == "cancelled")

    await stack.eventually(cancelled, timeout=15)
    assert await stack.seats(event["id"]) == {"capacity": 1, "sold": 0, "held": 0}
    assert (await stack.buy(event)).status_code == 201
