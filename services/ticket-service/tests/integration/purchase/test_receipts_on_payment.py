"""Receipts through the real payment path: settlements and refunds over the broker."""

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from ticketing_contracts import PaymentRefunded, PaymentSettled


def _facts(ticket: dict[str, Any]) -> dict[str, Any]:
    return {
        "order_id": ticket["order_id"],
        "ticket_id": ticket["id"],
        "event_id": ticket["event_id"],
        "user_id": ticket["user_id"],
        "amount": ticket["price_paid"],
        "customer_name": ticket["holder_name"],
        "customer_email": ticket["holder_email"],
    }


def settled(ticket: dict[str, Any]) -> PaymentSettled:
    return PaymentSettled(
        **_facts(ticket),
        payment_type="bank_transfer",
        transaction_id=f"mt-{uuid.uuid4()}",
        settled_at=datetime.now(UTC),
    )


def refunded(ticket: dict[str, Any]) -> PaymentRefunded:
    amount = ticket["price_paid"]
    return PaymentRefunded(
        **_facts(ticket),
        refund_amount=amount,
        refunded_total=amount,
        fully_refunded=True,
        transaction_status="refund",
    )


async def wait_status(stack: Any, ticket_id: str, status: str) -> None:
    async def reached() -> bool:
        return bool(await stack.ticket_status(ticket_id) == status)

    await stack.eventually(reached)


async def _bought(stack: Any, event: dict[str, Any]) -> dict[str, Any]:
    response = await stack.buy(event)
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()["data"]
    return ticket


async def _order_of(stack: Any, ticket: dict[str, Any]) -> str:
    return str(
        await stack.pool.fetchval(
            "SELECT purchase_order_id FROM tickets WHERE id = $1", uuid.UUID(ticket["id"])
        )
    )


async def _settled_at_once(stack: Any, host: str, tickets: list[dict[str, Any]]) -> list[int]:
    """Every ticket's settlement published at once; once all are active, the host's receipt
    numbers in order."""
    await asyncio.gather(*(stack.publish(settled(t)) for t in tickets))
    for ticket in tickets:
        await wait_status(stack, ticket["id"], "active")
    numbers = await stack.pool.fetch(
        "SELECT number FROM receipts WHERE host_id = $1 AND kind = 'receipt' ORDER BY number",
        host,
    )
    return [r["number"] for r in numbers]


async def test_concurrent_settlements_of_one_host_number_receipts_without_gaps(
    stack: Any,
) -> None:
    host = f"host-{uuid.uuid4()}"
    events = [await stack.put_event(host=host, price=55_000, capacity=10) for _ in range(2)]
    tickets = [await _bought(stack, events[i % 2]) for i in range(10)]

    assert await _settled_at_once(stack, host, tickets) == list(range(1, 11))
    order_id = await _order_of(stack, tickets[0])
    async with stack.client() as client:
        answer = await client.get(
            f"/orders/{order_id}/receipt", headers=stack.auth(tickets[0]["user_id"])
        )
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert data["total"] == 55_000
    assert data["payment"]["method"] == "bank_transfer"
    assert data["taxes"]["pbjt"] == 5_000  # 55,000 * 10 / 110


async def test_late_payments_racing_the_hosts_other_settlements_never_deadlock(
    stack: Any,
) -> None:
    """A late payment takes its seat back and gets a receipt; the host's usual payments take a
    receipt and then their seat. Both lock the host's counter before the event's row, so a
    storm of both numbers every receipt without PostgreSQL breaking a deadlock."""
    host = f"host-{uuid.uuid4()}"
    event = await stack.put_event(host=host, price=55_000, capacity=20)
    tickets = [await _bought(stack, event) for _ in range(12)]
    late = tickets[::2]
    for ticket in late:
        await stack.end_hold(ticket["id"])
    for ticket in late:
        await wait_status(stack, ticket["id"], "expired")
    deadlocks = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
    before = await stack.pool.fetchval(deadlocks)

    assert await _settled_at_once(stack, host, tickets) == list(range(1, 13))
    await asyncio.sleep(1.5)  # a backend reports its statistics within a second of going idle
    assert await stack.pool.fetchval(deadlocks) == before


async def test_a_refund_produces_a_credit_note_referencing_the_receipt(stack: Any) -> None:
    event = await stack.put_event(price=33_000, capacity=3)
    ticket = await _bought(stack, event)
    await stack.publish(settled(ticket))
    await wait_status(stack, ticket["id"], "active")
    refund = refunded(ticket)
    await stack.publish(refund)
    await stack.publish(refund)  # a second delivery upstream makes no second note
    await wait_status(stack, ticket["id"], "refunded")
    order_id = await _order_of(stack, ticket)

    async def noted() -> Any:
        async with stack.client() as client:
            answer = await client.get(
                f"/orders/{order_id}/receipt", headers=stack.auth(ticket["user_id"])
            )
        data = answer.json()["data"]
        return data if data["credit_notes"] else None

    data = await stack.eventually(noted)
    await asyncio.sleep(0.3)  # let the second delivery land
    count = await stack.pool.fetchval(
        "SELECT count(*) FROM receipts WHERE order_id = $1 AND kind = 'credit_note'",
        uuid.UUID(order_id),
    )
    assert count == 1
    [note] = data["credit_notes"]
    assert note["credits"] == data["number"]
    assert note["amount"] == 33_000
    assert note["taxes"]["pbjt"] == 3_000
    assert note["number"].startswith("NK/")


async def test_the_receipt_shows_the_price_paid_when_the_type_price_changed_before_payment(
    stack: Any,
) -> None:
    event = await stack.put_event(price=55_000, capacity=5)
    ticket = await _bought(stack, event)
    # The host raises the price while this buyer is still paying at the old one.
    await stack.pool.execute(
        "UPDATE ticket_types SET price = 80000 WHERE event_id = $1", event["id"]
    )
    await stack.publish(settled(ticket))
    await wait_status(stack, ticket["id"], "active")
    async with stack.client() as client:
        answer = await client.get(
            f"/orders/{await _order_of(stack, ticket)}/receipt",
            headers=stack.auth(ticket["user_id"]),
        )
    assert answer.status_code == 200, answer.text
    receipt = answer.json()["data"]
    assert [(i["unit_price"], i["quantity"]) for i in receipt["items"]] == [(55_000, 1)]
    assert receipt["total"] == 55_000
