"""Payment events -> ticket states, through the real broker and the inbox, exactly once."""

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from ticketing_contracts import PaymentFailed, PaymentRefunded, PaymentSettled


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


def settled(ticket: dict[str, Any], **extra: Any) -> PaymentSettled:
    return PaymentSettled(
        **_facts(ticket),
        payment_type="bank_transfer",
        transaction_id=f"mt-{uuid.uuid4()}",
        settled_at=datetime.now(UTC),
        **extra,
    )


def failed(ticket: dict[str, Any], status: str = "deny") -> PaymentFailed:
    return PaymentFailed(**_facts(ticket), transaction_status=status, reason="test")  # type: ignore[arg-type]


def refunded(ticket: dict[str, Any], *, full: bool = True) -> PaymentRefunded:
    amount = ticket["price_paid"] if full else ticket["price_paid"] // 2
    return PaymentRefunded(
        **_facts(ticket),
        refund_amount=amount,
        refunded_total=amount,
        fully_refunded=full,
        transaction_status="refund" if full else "partial_refund",
    )


async def pending_ticket(
    stack: Any, *, capacity: int = 5, url: str | None = None
) -> dict[str, Any]:
    event = await stack.put_event(price=30_000, capacity=capacity)
    async with stack.client(url) as client:
        response = await stack.buy(event, client=client)
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()["data"]
    return ticket


async def wait_status(stack: Any, ticket_id: str, status: str) -> None:
    async def reached() -> bool:
        return bool(await stack.ticket_status(ticket_id) == status)

    await stack.eventually(reached)


async def test_settled_payment_activates_the_ticket_and_completes_the_transaction(
    stack: Any,
) -> None:
    ticket = await pending_ticket(stack)
    payment = settled(ticket)

    await stack.publish(payment)

    await wait_status(stack, ticket["id"], "active")
    row = await stack.ticket_row(ticket["id"])
    assert row["transaction_status"] == "completed"
    assert row["completed_at"] == payment.settled_at
    assert row["payment_method"] == "bank_transfer"
    assert row["payment_gateway_id"] == payment.transaction_id
    assert row["activated_at"] is not None
    assert await stack.seats(ticket["event_id"]) == {"capacity": 5, "sold": 1, "held": 0}
    activated = await stack.outbox_payload(ticket["id"], "ticket.activated")
    assert activated["order_id"] == ticket["order_id"]
    claims = await stack.verify_offline(activated["qr_payload"], ticket["event_id"])
    assert (claims.ticket_id, claims.attendance_code) == (ticket["id"], ticket["attendance_code"])
    assert claims.event_id == ticket["event_id"]


async def test_a_redelivered_settlement_has_no_second_effect(stack: Any) -> None:
    ticket = await pending_ticket(stack)
    payment = settled(ticket)
    event_id = uuid.uuid4()

    await stack.publish(payment, event_id=event_id)
    await wait_status(stack, ticket["id"], "active")
    await stack.publish(payment, event_id=event_id)  # the broker redelivers the same message
    await stack.publish(settled(ticket))  # upstream sends a second, distinct settlement
    await asyncio.sleep(0.5)

    assert await stack.outbox_events(ticket["id"]) == ["ticket.activated"]
    assert await stack.seats(ticket["event_id"]) == {"capacity": 5, "sold": 1, "held": 0}


async def test_concurrent_duplicate_settlements_activate_once(stack: Any) -> None:
    ticket = await pending_ticket(stack)

    await asyncio.gather(*(stack.publish(settled(ticket)) for _ in range(10)))

    await wait_status(stack, ticket["id"], "active")
    await asyncio.sleep(0.5)
    assert await stack.outbox_events(ticket["id"]) == ["ticket.activated"]
    assert await stack.seats(ticket["event_id"]) == {"capacity": 5, "sold": 1, "held": 0}


async def test_failed_payment_cancels_the_ticket_and_frees_the_seat(stack: Any) -> None:
    ticket = await pending_ticket(stack, capacity=1)
    assert await stack.seats(ticket["event_id"]) == {"capacity": 1, "sold": 0, "held": 1}

    await stack.publish(failed(ticket))

    await wait_status(stack, ticket["id"], "cancelled")
    row = await stack.ticket_row(ticket["id"])
    assert row["transaction_status"] == "failed"
    assert row["cancel_reason"] == "payment_deny"
    assert await stack.seats(ticket["event_id"]) == {"capacity": 1, "sold": 0, "held": 0}
    assert await stack.outbox_events(ticket["id"]) == ["ticket.cancelled"]


async def test_refund_makes_an_active_ticket_refunded_and_frees_the_seat(stack: Any) -> None:
    ticket = await pending_ticket(stack)
    await stack.publish(settled(ticket))
    await wait_status(stack, ticket["id"], "active")

    await stack.publish(refunded(ticket))

    await wait_status(stack, ticket["id"], "refunded")
    row = await stack.ticket_row(ticket["id"])
    assert row["transaction_status"] == "refunded" and row["refunded_at"] is not None
    assert await stack.seats(ticket["event_id"]) == {"capacity": 5, "sold": 0, "held": 0}


async def test_a_partial_refund_leaves_the_ticket_active(stack: Any) -> None:
    ticket = await pending_ticket(stack)
    await stack.publish(settled(ticket))
    await wait_status(stack, ticket["id"], "active")

    event_id = await stack.publish(refunded(ticket, full=False))

    await stack.eventually(lambda: stack.inbox_has(event_id))
    assert await stack.ticket_status(ticket["id"]) == "active"


async def test_late_payment_after_expiry_takes_a_free_seat_back(stack: Any) -> None:
    ticket = await pending_ticket(stack, capacity=2, url=stack.replica_url)
    await stack.end_hold(ticket["id"])
    await wait_status(stack, ticket["id"], "expired")
    assert await stack.seats(ticket["event_id"]) == {"capacity": 2, "sold": 0, "held": 0}

    await stack.publish(settled(ticket))

    await wait_status(stack, ticket["id"], "active")
    assert await stack.seats(ticket["event_id"]) == {"capacity": 2, "sold": 1, "held": 0}
    assert await stack.outbox_events(ticket["id"]) == ["ticket.expired", "ticket.activated"]


async def test_late_payment_for_a_sold_out_event_stays_cancelled_and_asks_a_refund(
    stack: Any,
) -> None:
    late = await pending_ticket(stack, capacity=1)
    await stack.end_hold(late["id"])
    await wait_status(stack, late["id"], "expired")
    event = {"id": late["event_id"], "price": late["price_paid"]}
    taker = await stack.buy(event)  # someone else takes the freed seat
    assert taker.status_code == 201, taker.text

    await stack.publish(settled(late))

    await wait_status(stack, late["id"], "cancelled")
    row = await stack.ticket_row(late["id"])
    assert row["cancel_reason"] == "late_payment_sold_out"
    assert row["payment_gateway_id"] is not None
    assert await stack.seats(late["event_id"]) == {"capacity": 1, "sold": 0, "held": 1}
    refund = await stack.outbox_payload(late["id"], "ticket.refund_requested")
    assert refund["amount"] == late["price_paid"]
    assert sorted(await stack.outbox_events(late["id"])) == [
        "ticket.cancelled",
        "ticket.expired",
        "ticket.refund_requested",
    ]
    # A second settlement of the same order does not ask twice.
    await stack.publish(settled(late))
    await asyncio.sleep(0.5)
    assert (await stack.outbox_events(late["id"])).count("ticket.refund_requested") == 1


async def test_an_event_about_an_unknown_order_is_consumed_and_changes_nothing(stack: Any) -> None:
    ghost = {
        "order_id": f"TKT-{uuid.uuid4()}",
        "id": str(uuid.uuid4()),
        "event_id": str(uuid.uuid4()),
        "user_id": "nobody",
        "price_paid": 1000,
        "holder_name": "X",
        "holder_email": "x@example.id",
    }

    event_id = await stack.publish(settled(ghost))

    await stack.eventually(lambda: stack.inbox_has(event_id))


async def test_settlements_racing_the_hold_sweeper_keep_the_counts_exact(stack: Any) -> None:
    event = await stack.put_event(price=30_000, capacity=12)
    async with stack.client() as client:
        responses = await asyncio.gather(*(stack.buy(event, client=client) for _ in range(12)))
    tickets = [r.json()["data"] for r in responses]
    assert all(r.status_code == 201 for r in responses)

    # Every hold ends now while every payment arrives: the sweepers and the consumers race.
    await stack.pool.execute(
        "UPDATE tickets SET hold_expires_at = now() WHERE event_id = $1", event["id"]
    )
    await asyncio.gather(*(stack.publish(settled(t)) for t in tickets))

    async def all_active() -> bool:
        statuses = {await stack.ticket_status(t["id"]) for t in tickets}
        return statuses == {"active"}

    await stack.eventually(all_active)
    # Seats were free, so a payment that lost the race to the sweeper took its seat back.
    assert await stack.seats(event["id"]) == {"capacity": 12, "sold": 12, "held": 0}
