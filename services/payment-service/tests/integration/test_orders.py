"""Issue 14: one Snap transaction per order of several tickets, and refunds of one ticket's share.

The order here: one VIP (250,000) and two Reguler (100,000 each) with a 45,000 promo discount,
405,000 in all; ticket-service's shares are 222,500 / 91,250 / 91,250 (the discount spread by
price). Real PostgreSQL, RabbitMQ, sandbox and service, as in the rest of this folder.
"""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ticketing_contracts import TicketRefundRequested, TicketRefundRequestedV2


def new_order_id() -> str:
    return f"TIX-{uuid.uuid4().hex[:16]}"


async def wait_until(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


VIP, REGULER, DISCOUNT = 250_000, 100_000, 45_000
TOTAL = VIP + 2 * REGULER - DISCOUNT
SHARES = (222_500, 91_250, 91_250)
ITEMS = [
    {"id": "type-vip", "name": "VIP", "price": VIP, "quantity": 1},
    {"id": "type-reguler", "name": "Reguler (berdiri, pintu 3) " + "x" * 23, "price": REGULER,
     "quantity": 2},
    {"id": "promo-JAKARTA10", "name": "Promo JAKARTA10", "price": -DISCOUNT, "quantity": 1},
]  # fmt: skip


def order_body(order_id: str, **changes: Any) -> dict[str, Any]:
    tickets = [f"{n}-{order_id}" for n in ("vip", "reg1", "reg2")]
    body: dict[str, Any] = {
        "order_id": order_id,
        "amount": TOTAL,
        "currency": "IDR",
        "customer": {"name": "Siti Rahma", "email": "siti@example.id"},
        "items": ITEMS,
        "expires_at": (datetime.now(UTC) + timedelta(minutes=15)).isoformat(),
        "metadata": {
            "ticket_id": tickets[0],
            "ticket_ids": tickets,
            "purchase_order_id": f"po-{order_id}",
            "event_id": "event-1",
            "user_id": "user-42",
            "event_title": "Jakarta Jazz Night",
            "event_starts_at": "2026-12-20T19:00:00+07:00",
        },
    }
    return {**body, **changes}


async def open_order(stack, **changes: Any) -> Any:
    return await stack.http.post(
        f"{stack.service_url}/internal/payments",
        json=order_body(new_order_id(), **changes),
        headers=stack.service_headers,
    )


async def paid_order(stack, payment_type: str, **extra: str) -> str:
    response = await open_order(stack)
    assert response.status_code == 201, response.text
    order_id = str(response.json()["data"]["order_id"])
    await stack.pay(order_id, payment_type, "settlement", **extra)
    await stack.wait_status(order_id, "settled")
    return order_id


def refund_request(order_id: str, ticket: str, amount: int, *, v2: bool = True) -> Any:
    facts = {
        "ticket_id": f"{ticket}-{order_id}",
        "event_id": "event-1",
        "user_id": "user-42",
        "order_id": order_id,
        "attendance_code": "K7P3",
        "holder_name": "Budi",
        "holder_email": "budi@example.id",
        "event_title": "Jakarta Jazz Night",
        "event_starts_at": "2026-12-20T19:00:00+07:00",
        "amount": amount,
        "reason": "ticket cancelled by the buyer",
    }
    if not v2:
        return TicketRefundRequested(**facts)
    return TicketRefundRequestedV2(**facts, purchase_order_id=f"po-{order_id}", order_size=3)


async def refunds_of(stack, order_id: str) -> list[Any]:
    return list(
        await stack.db.fetch(
            "SELECT amount, method, status, ticket_ids FROM refunds WHERE order_id = $1"
            " ORDER BY created_at",
            order_id,
        )
    )


async def wait_refunds(stack, order_id: str, count: int, statuses: set[str]) -> list[Any]:
    async def done() -> bool:
        rows = await refunds_of(stack, order_id)
        return len(rows) >= count and all(r["status"] in statuses for r in rows)

    await wait_until(done, 15, f"{count} refunds of {order_id} in {statuses}")
    return await refunds_of(stack, order_id)


async def test_an_order_is_one_snap_transaction_with_a_line_per_type_and_the_discount(
    stack,
) -> None:
    response = await open_order(stack)
    assert response.status_code == 201, response.text
    order_id = response.json()["data"]["order_id"]
    at_sandbox = (await stack.http.get(f"{stack.sandbox_url}/_sandbox/orders/{order_id}")).json()
    assert at_sandbox["gross_amount"] == TOTAL
    assert [(i["name"], i["price"], i["quantity"]) for i in at_sandbox["item_details"]] == [
        (i["name"], i["price"], i["quantity"]) for i in ITEMS
    ]
    assert sum(i["price"] * i["quantity"] for i in at_sandbox["item_details"]) == TOTAL
    payment = await stack.payment(order_id)
    tickets = [f"{n}-{order_id}" for n in ("vip", "reg1", "reg2")]
    assert (payment["purchase_order_id"], list(payment["ticket_ids"])) == (
        f"po-{order_id}",
        tickets,
    )

    await stack.pay(order_id, "bank_transfer", "pending", bank="bca")
    pending = (await stack.wait_events(order_id, "payment.pending"))[0]
    await stack.pay(order_id, "bank_transfer", "settlement", bank="bca")
    settled = (await stack.wait_events(order_id, "payment.settled"))[0]
    for message in (pending, settled):
        assert message["version"] == 3
        assert message["payload"]["purchase_order_id"] == f"po-{order_id}"
        assert message["payload"]["ticket_ids"] == tickets
        assert message["payload"]["ticket_id"] == tickets[0]  # what v1 and v2 readers use
        assert message["payload"]["amount"] == TOTAL


async def test_items_that_do_not_add_up_or_tickets_out_of_order_are_refused(stack) -> None:
    short = [*ITEMS[:2], {**ITEMS[2], "price": -40_000}]
    assert (await open_order(stack, items=short)).status_code == 422
    body = order_body(new_order_id())
    body["metadata"]["ticket_ids"] = list(reversed(body["metadata"]["ticket_ids"]))
    refused = await stack.http.post(
        f"{stack.service_url}/internal/payments", json=body, headers=stack.service_headers
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "validation_error"
    # The sandbox checks the sum as Midtrans does (the discount line included).
    snap = {
        "transaction_details": {"order_id": new_order_id(), "gross_amount": TOTAL},
        "item_details": short,
    }
    answer = await stack.core("POST", "/snap/v1/transactions", json=snap)
    assert answer.status_code == 400, answer.text
    assert "sum of item_details" in " ".join(answer.json()["error_messages"])


async def test_two_tickets_of_an_order_cancelled_at_once_refund_their_shares_only(stack) -> None:
    order_id = await paid_order(stack, "gopay")
    await asyncio.gather(
        stack.publish(refund_request(order_id, "reg1", SHARES[1])),
        stack.publish(refund_request(order_id, "reg2", SHARES[2])),
        stack.publish(refund_request(order_id, "reg2", SHARES[2])),  # the same ticket again
    )
    rows = await wait_refunds(stack, order_id, 2, {"succeeded"})
    await stack.wait_status(order_id, "partially_refunded")
    assert sorted((r["amount"], tuple(r["ticket_ids"])) for r in rows) == [
        (SHARES[1], (f"reg1-{order_id}",)),
        (SHARES[2], (f"reg2-{order_id}",)),
    ]
    at_midtrans = (await stack.core("GET", f"/v2/{order_id}/status")).json()
    assert sorted(int(float(r["refund_amount"])) for r in at_midtrans["refunds"]) == sorted(
        SHARES[1:]
    )
    assert (await stack.payment(order_id))["refunded_amount"] == SHARES[1] + SHARES[2]

    # The last ticket asks for more than is left (a stale share): only what is left goes back.
    await stack.publish(refund_request(order_id, "vip", TOTAL))
    rows = await wait_refunds(stack, order_id, 3, {"succeeded"})
    await stack.wait_status(order_id, "refunded")
    assert sum(r["amount"] for r in rows) == TOTAL
    payment = await stack.payment(order_id)
    assert payment["refunded_amount"] == TOTAL
    assert payment["flagged_at"] is None

    def succeeded() -> list[dict[str, Any]]:
        updates = stack.tap.of(order_id, "payment.refund_updated")
        return [m for m in updates if m["payload"]["refund_status"] == "succeeded"]

    async def all_told() -> bool:
        return len(succeeded()) >= 3

    await wait_until(all_told, 10, "three refunds told as succeeded")
    assert {m["version"] for m in stack.tap.of(order_id, "payment.refund_updated")} == {2}
    told = {
        (tuple(m["payload"]["refunded_ticket_ids"]), m["payload"]["refund_amount"])
        for m in succeeded()
    }
    assert told == {
        ((f"reg1-{order_id}",), SHARES[1]),
        ((f"reg2-{order_id}",), SHARES[2]),
        ((f"vip-{order_id}",), TOTAL - SHARES[1] - SHARES[2]),
    }
    refunded = await stack.wait_events(order_id, "payment.refunded", count=3)
    assert {m["version"] for m in refunded} == {3}
    assert all(m["payload"]["purchase_order_id"] == f"po-{order_id}" for m in refunded)


@pytest.mark.parametrize(
    ("payment_type", "extra"),
    [("bank_transfer", {"bank": "bni"}), ("dana", {})],
    ids=["virtual account: no API refund", "DANA: full refunds only"],
)
async def test_a_ticket_share_becomes_a_payout_of_that_share_where_the_method_needs_it(
    stack, payment_type: str, extra: dict[str, str]
) -> None:
    order_id = await paid_order(stack, payment_type, **extra)
    await stack.publish(refund_request(order_id, "reg1", SHARES[1], v2=False))  # an old producer
    rows = await wait_refunds(stack, order_id, 1, {"awaiting_payout"})
    assert [(r["amount"], r["method"], list(r["ticket_ids"])) for r in rows] == [
        (SHARES[1], "payout", [f"reg1-{order_id}"])
    ]
    assert await stack.status_of(order_id) == "settled"
    update = (await stack.wait_events(order_id, "payment.refund_updated"))[0]
    assert update["payload"]["refunded_ticket_ids"] == [f"reg1-{order_id}"]
    assert update["payload"]["refund_amount"] == SHARES[1]


async def test_a_refund_for_a_ticket_the_payment_is_not_for_is_flagged_not_paid(stack) -> None:
    order_id = await paid_order(stack, "gopay")
    await stack.publish(refund_request(order_id, "someone-else", SHARES[1]))

    async def flagged() -> bool:
        return (await stack.payment(order_id))["flagged_at"] is not None

    await wait_until(flagged, 10, "the payment flagged")
    assert await refunds_of(stack, order_id) == []


async def test_every_ticket_asking_for_the_whole_payment_at_once_never_refunds_more_than_paid(
    stack,
) -> None:
    order_id = await paid_order(stack, "gopay")
    await asyncio.gather(
        *(stack.publish(refund_request(order_id, t, TOTAL)) for t in ("vip", "reg1", "reg2"))
    )

    async def settled_down() -> bool:
        payment = await stack.payment(order_id)
        rows = await refunds_of(stack, order_id)
        return payment["status"] == "refunded" and all(r["status"] == "succeeded" for r in rows)

    await wait_until(settled_down, 15, "the payment refunded")
    await asyncio.sleep(0.5)  # room for a wrongly recorded extra refund to show up
    rows = await refunds_of(stack, order_id)
    assert sum(r["amount"] for r in rows) == TOTAL
    at_midtrans = (await stack.core("GET", f"/v2/{order_id}/status")).json()
    assert sum(int(float(r["refund_amount"])) for r in at_midtrans["refunds"]) == TOTAL
    # The first ticket served took all that was left; the others found nothing and were flagged.
    assert len(rows) == 1
    assert (await stack.payment(order_id))["flag_reason"].startswith("refund requested but")
