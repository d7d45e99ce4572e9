"""Payment events v2 through the real broker: applied by sequence, never by delivery order.

A refund delivered before its settlement leaves no active ticket; a declined card keeps the hold;
the refund and the last attempt show on the ticket and transaction; every order of a payment's
events (published back to back, consumed by two replicas at once) ends in the same state.
"""

import asyncio
import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ticketing_contracts import (
    EventPayload,
    PaymentDeclined,
    PaymentFailedV2,
    PaymentRefundedV2,
    PaymentRefundUpdated,
    PaymentSettledV2,
)


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


async def pending_ticket(stack: Any, *, capacity: int = 5) -> dict[str, Any]:
    event = await stack.put_event(price=30_000, capacity=capacity)
    response = await stack.buy(event)
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()["data"]
    return ticket


async def wait_status(stack: Any, ticket_id: str, status: str) -> None:
    async def reached() -> bool:
        return bool(await stack.ticket_status(ticket_id) == status)

    await stack.eventually(reached)


def settled_v2(ticket: dict[str, Any], seq: int) -> PaymentSettledV2:
    return PaymentSettledV2(
        **_facts(ticket),
        payment_type="credit_card",
        transaction_id=f"mt-{ticket['id']}",
        settled_at=datetime.now(UTC),
        sequence=seq,
        payment_status="settled",
    )


def refunded_v2(ticket: dict[str, Any], seq: int, *, part: int | None = None) -> PaymentRefundedV2:
    amount = part or ticket["price_paid"]
    full = part is None
    return PaymentRefundedV2(
        **_facts(ticket),
        payment_type="credit_card",
        refund_amount=amount,
        refunded_total=ticket["price_paid"] if full else amount,
        fully_refunded=full,
        transaction_status="refund" if full else "partial_refund",
        reason="buyer asked",
        sequence=seq,
        payment_status="refunded" if full else "partially_refunded",
    )


def reversed_v2(ticket: dict[str, Any], seq: int) -> PaymentFailedV2:
    return PaymentFailedV2(
        **_facts(ticket), transaction_status="deny", sequence=seq, payment_status="reversed"
    )


def declined(ticket: dict[str, Any], seq: int) -> PaymentDeclined:
    return PaymentDeclined(
        **_facts(ticket),
        payment_type="credit_card",
        sequence=seq,
        payment_status="pending",
        reason="Deny by Bank [MANDIRI] with code [05] and message [Do not honour]",
    )


def refund_update(
    ticket: dict[str, Any], seq: int, status: str, *, payment_status: str = "settled", **extra: Any
) -> PaymentRefundUpdated:
    return PaymentRefundUpdated(
        **_facts(ticket),
        payment_type="bank_transfer",
        sequence=seq,
        payment_status=payment_status,
        refund_id=f"rf-{ticket['id']}",
        refund_amount=ticket["price_paid"],
        method="payout",
        refund_status=status,  # type: ignore[arg-type]
        reason="event cancelled by the host",
        **extra,
    )


async def read(stack: Any, path: str, user: str) -> dict[str, Any]:
    async with stack.client() as client:
        response = await client.get(path, headers=stack.auth(user))
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def transaction_id(stack: Any, ticket_id: str) -> str:
    value = await stack.pool.fetchval(
        "SELECT id FROM ticket_transactions WHERE ticket_id = $1", uuid.UUID(ticket_id)
    )
    return str(value)


async def publish_all(stack: Any, *events: EventPayload) -> list[str]:
    ids = [await stack.publish(event) for event in events]
    for event_id in ids:
        await stack.eventually(lambda event_id=event_id: stack.inbox_has(event_id))
    return ids


async def test_a_refund_before_its_settlement_never_leaves_an_active_ticket(stack: Any) -> None:
    ticket = await pending_ticket(stack)

    await publish_all(stack, refunded_v2(ticket, 3), settled_v2(ticket, 2))

    assert await stack.ticket_status(ticket["id"]) == "refunded"
    assert await stack.seats(ticket["event_id"]) == {"capacity": 5, "sold": 0, "held": 0}
    assert "ticket.activated" not in await stack.outbox_events(ticket["id"])
    shown = await read(stack, f"/tickets/{ticket['id']}", ticket["user_id"])
    assert shown["status"] == "refunded"
    assert shown["refund"]["status"] == "succeeded"
    assert shown["refund"]["amount"] == ticket["price_paid"]
    transaction = await read(
        stack,
        f"/tickets/transactions/{await transaction_id(stack, ticket['id'])}",
        ticket["user_id"],
    )
    assert transaction["status"] == "refunded"
    assert transaction["payment_status"] == "refunded"


async def test_a_declined_card_keeps_the_hold_and_a_later_settlement_activates(
    stack: Any,
) -> None:
    ticket = await pending_ticket(stack, capacity=1)

    await publish_all(stack, declined(ticket, 1))

    assert await stack.ticket_status(ticket["id"]) == "pending"
    assert await stack.seats(ticket["event_id"]) == {"capacity": 1, "sold": 0, "held": 1}
    assert await stack.outbox_events(ticket["id"]) == []
    path = f"/tickets/transactions/{await transaction_id(stack, ticket['id'])}"
    attempt = (await read(stack, path, ticket["user_id"]))["last_payment_attempt"]
    assert attempt["result"] == "declined"
    assert "Do not honour" in attempt["reason"]
    assert attempt["at"] is not None
    shown = await read(stack, f"/tickets/{ticket['id']}", ticket["user_id"])
    assert shown["status"] == "pending"
    assert shown["payment"]["snap_token"]  # the buyer retries in the same Snap page
    assert shown["last_payment_attempt"]["result"] == "declined"

    await publish_all(stack, settled_v2(ticket, 2))

    await wait_status(stack, ticket["id"], "active")
    assert await stack.seats(ticket["event_id"]) == {"capacity": 1, "sold": 1, "held": 0}
    assert await stack.outbox_events(ticket["id"]) == ["ticket.activated"]


async def test_a_payout_refund_shows_on_the_ticket_and_a_stale_update_is_ignored(
    stack: Any,
) -> None:
    ticket = await pending_ticket(stack)
    user = ticket["user_id"]
    await publish_all(stack, settled_v2(ticket, 1))
    await wait_status(stack, ticket["id"], "active")

    await publish_all(stack, refund_update(ticket, 2, "awaiting_payout"))

    shown = await read(stack, f"/tickets/{ticket['id']}", user)
    assert shown["refund"] == {
        "id": f"rf-{ticket['id']}",
        "amount": ticket["price_paid"],
        "method": "payout",
        "status": "awaiting_payout",
        "reason": "event cancelled by the host",
        "reference": None,
        "updated_at": shown["refund"]["updated_at"],
    }
    assert shown["status"] == "cancelled"  # the money is going back: no longer a valid ticket
    assert await stack.seats(ticket["event_id"]) == {"capacity": 5, "sold": 0, "held": 0}

    paid_out = refund_update(
        ticket, 4, "paid_out", payment_status="refunded", reference="BCA-TRF-20261205-0042"
    )
    await publish_all(stack, paid_out, refund_update(ticket, 3, "awaiting_payout"))

    mine = await read(stack, "/tickets/my-tickets?limit=100", user)
    listed = next(t for t in mine if t["id"] == ticket["id"])
    assert listed["status"] == "refunded"
    assert listed["refund"]["status"] == "paid_out"
    assert listed["refund"]["reference"] == "BCA-TRF-20261205-0042"
    transactions = await read(stack, "/tickets/transactions?limit=100", user)
    order = next(x for x in transactions if x["ticket_id"] == ticket["id"])
    assert order["refund"]["status"] == "paid_out"
    assert order["status"] == "refunded"


async def test_late_v2_money_takes_a_free_seat_or_asks_the_refund(stack: Any) -> None:
    free = await pending_ticket(stack, capacity=2)
    late = await pending_ticket(stack, capacity=1)
    for ticket in (free, late):
        await stack.end_hold(ticket["id"])
        await wait_status(stack, ticket["id"], "expired")
    taker = await stack.buy({"id": late["event_id"], "price": late["price_paid"]})
    assert taker.status_code == 201, taker.text

    await publish_all(stack, settled_v2(free, 3), settled_v2(late, 3))

    assert await stack.ticket_status(free["id"]) == "active"
    assert await stack.seats(free["event_id"]) == {"capacity": 2, "sold": 1, "held": 0}
    assert await stack.ticket_status(late["id"]) == "cancelled"
    assert await stack.seats(late["event_id"]) == {"capacity": 1, "sold": 0, "held": 1}
    refund = await stack.outbox_payload(late["id"], "ticket.refund_requested")
    assert refund["amount"] == late["price_paid"]
    assert refund["reason"] == "late_payment_sold_out"


History = Callable[[dict[str, Any]], list[EventPayload]]
HISTORIES: dict[str, tuple[int, History, str]] = {
    "settled, partial refund, refund": (
        3,
        lambda t: [settled_v2(t, 1), refunded_v2(t, 2, part=10_000), refunded_v2(t, 3)],
        "refunded",
    ),
    "settled, reversed": (2, lambda t: [settled_v2(t, 1), reversed_v2(t, 2)], "cancelled"),
    "declined, settled": (2, lambda t: [declined(t, 1), settled_v2(t, 2)], "active"),
}


async def test_every_delivery_order_on_the_real_broker_ends_the_same(stack: Any) -> None:
    """Each order of each history on its own ticket, all published at once: two replicas
    consume them concurrently, so events of one order also race each other for its lock."""
    cases: list[tuple[str, dict[str, Any], list[EventPayload], str]] = []
    for name, (size, history, final) in HISTORIES.items():
        for order in itertools.permutations(range(size)):
            ticket = await pending_ticket(stack)
            events = history(ticket)
            cases.append((name, ticket, [events[i] for i in order], final))

    await asyncio.gather(*(publish_all(stack, *events) for _, _, events, _ in cases))

    assert len(cases) == 6 + 2 + 2  # the delivery orders tried on the real broker
    for name, ticket, events, final in cases:
        where = (name, [type(e).__name__ for e in events])
        assert await stack.ticket_status(ticket["id"]) == final, where
        emitted = await stack.outbox_events(ticket["id"])
        activated = emitted.count("ticket.activated")
        assert activated <= 1, where
        assert "ticket.refund_requested" not in emitted, where  # payment-service has the money
        newest = max(events, key=lambda e: e.sequence)  # type: ignore[attr-defined]
        stored = await stack.pool.fetchrow(
            """SELECT payment_sequence, payment_status, last_attempt_result
                 FROM ticket_transactions WHERE ticket_id = $1""",
            uuid.UUID(ticket["id"]),
        )
        assert (stored["payment_sequence"], stored["payment_status"]) == (
            newest.sequence,  # type: ignore[attr-defined]
            newest.payment_status,  # type: ignore[attr-defined]
        ), where
        if final == "active" and any(isinstance(e, PaymentDeclined) for e in events):
            assert stored["last_attempt_result"] == "paid", where  # a stale decline is ignored
        newest_first = events[0].sequence == max(e.sequence for e in events)  # type: ignore[attr-defined]
        if newest_first:
            assert activated == (1 if final == "active" else 0), where
        seats = await stack.seats(ticket["event_id"])
        assert seats["held"] == 0, where
        assert seats["sold"] == (1 if final == "active" else 0), where


async def test_money_for_a_hold_its_buyer_cancelled_is_asked_back_once(stack: Any) -> None:
    ticket = await pending_ticket(stack)
    async with stack.client() as client:
        cancelled = await client.post(
            f"/tickets/{ticket['id']}/cancel",
            json={"reason": "berubah pikiran"},
            headers=stack.auth(ticket["user_id"]),
        )
    assert cancelled.status_code == 200, cancelled.text

    await publish_all(stack, settled_v2(ticket, 2), settled_v2(ticket, 3))

    assert await stack.ticket_status(ticket["id"]) == "cancelled"
    assert await stack.seats(ticket["event_id"]) == {"capacity": 5, "sold": 0, "held": 0}
    events = await stack.outbox_events(ticket["id"])
    assert events.count("ticket.refund_requested") == 1
    assert "ticket.activated" not in events
    refund = await stack.outbox_payload(ticket["id"], "ticket.refund_requested")
    assert (refund["amount"], refund["reason"]) == (ticket["price_paid"], "berubah pikiran")
