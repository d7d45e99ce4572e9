"""Steps e2e tests take the same way: a host's event, a purchase paid in the sandbox, a ticket
reaching a status, the mail sink's messages to an address."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from e2e_waiting import eventually


async def create_event(
    client: httpx.AsyncClient,
    host: dict[str, str],
    event_id: str,
    *,
    title: str,
    venue: str,
    starts_in: timedelta,
    price: int,
    capacity: int,
    **more: Any,
) -> dict[str, Any]:
    """The host's event, created by PUT (201); `more` adds fields such as `currency`."""
    created = await client.put(
        f"/events/{event_id}",
        json={
            "title": title,
            "venue": venue,
            "starts_at": (datetime.now(UTC) + starts_in).isoformat(),
            "price": price,
            "capacity": capacity,
            **more,
        },
        headers=host,
    )
    assert created.status_code == 201, created.text
    event: dict[str, Any] = created.json()["data"]
    return event


async def buy_ticket(
    client: httpx.AsyncClient,
    buyer: dict[str, str],
    event_id: str,
    *,
    name: str,
    email: str,
    amount: int,
    **more: Any,
) -> dict[str, Any]:
    """A held ticket (201) from `/tickets/purchase`; `more` adds fields such as `customer_phone`."""
    bought = await client.post(
        "/tickets/purchase",
        json={
            "event_id": event_id,
            "customer_name": name,
            "customer_email": email,
            "amount": amount,
            **more,
        },
        headers=buyer,
    )
    assert bought.status_code == 201, bought.text
    ticket: dict[str, Any] = bought.json()["data"]
    return ticket


async def pay_in_sandbox(
    stack: Any, order_id: str, payment_type: str, *, outcome: str = "settlement", **method: str
) -> httpx.Response:
    """The buyer pays the Snap order in the sandbox (`method` adds e.g. `bank`); its answer."""
    async with httpx.AsyncClient(base_url=stack.sandbox_url, timeout=10) as sandbox:
        return await sandbox.post(
            f"/_sandbox/orders/{order_id}/pay",
            json={"payment_type": payment_type, **method, "outcome": outcome},
        )


async def ticket_in_status(
    client: httpx.AsyncClient, ticket_id: str, headers: dict[str, str], status: str = "active"
) -> dict[str, Any]:
    """The ticket as its holder reads it, once it has reached `status`."""

    async def reached() -> dict[str, Any] | None:
        response = await client.get(f"/tickets/{ticket_id}", headers=headers)
        assert response.status_code == 200, response.text
        ticket: dict[str, Any] = response.json()["data"]
        return ticket if ticket["status"] == status else None

    return await eventually(reached, f"ticket {status}")


async def buy_and_pay(
    stack: Any,
    client: httpx.AsyncClient,
    event_id: str,
    buyer_id: str,
    *,
    amount: int,
    payment_type: str,
) -> dict[str, Any]:
    """Siti Rahma's ticket, bought and paid in the sandbox, once it is active."""
    buyer = stack.auth(buyer_id)
    bought = await buy_ticket(
        client,
        buyer,
        event_id,
        name="Siti Rahma",
        email=f"{buyer_id}@example.id",
        amount=amount,
        customer_phone="+6281234567890",
    )
    paid = await pay_in_sandbox(stack, bought["payment"]["order_id"], payment_type)
    assert paid.status_code < 300, paid.text
    return await ticket_in_status(client, bought["id"], buyer)


async def mails_to(stack: Any, address: str) -> list[dict[str, Any]]:
    """Every message the mail sink holds for `address`."""
    async with httpx.AsyncClient(base_url=stack.mail_url, timeout=10) as mail:
        response = await mail.get("/messages", params={"to": address})
    messages: list[dict[str, Any]] = response.json()["data"]
    return messages
