"""Every per-ticket payment rule applies to every ticket of an order; the door works per ticket."""

import uuid
from datetime import UTC, datetime
from typing import Any

from orders_kit import (
    counted_tickets,
    counters,
    order,
    outbox_of_order,
    put_promo,
    settled,
    setup_sale,
)
from ticketing_contracts import PaymentFailedV3, PaymentRefundUpdatedV2

TYPES = {
    "early": {"name": "Early Bird", "price": 100_000, "capacity": 3},
    "vip": {"name": "VIP", "price": 300_000},
}


def failed(order_data: dict[str, Any]) -> PaymentFailedV3:
    facts = settled(order_data).model_dump(exclude={"settled_at", "payment_status", "sequence"})
    return PaymentFailedV3(
        **facts, transaction_status="deny", reason="test", sequence=3, payment_status="failed"
    )


async def statuses(stack: Any, order_id: str) -> set[str]:
    found = await stack.pool.fetch(
        "SELECT status FROM tickets WHERE purchase_order_id = $1", uuid.UUID(order_id)
    )
    return {r["status"] for r in found}


async def test_a_failed_payment_cancels_every_ticket_and_frees_every_seat(stack: Any) -> None:
    event = await setup_sale(stack, types=TYPES)
    data = (await order(stack, event, {"early": 2, "vip": 1})).json()["data"]

    await stack.publish(failed(data))

    async def cancelled() -> bool:
        return await statuses(stack, data["id"]) == {"cancelled"}

    await stack.eventually(cancelled)
    assert set((await counters(stack, event["id"])).values()) == {(0, 0)}
    kinds = [e["event_type"] for e in await outbox_of_order(stack, data["id"])]
    assert kinds.count("ticket.cancelled") == 3


async def test_an_order_whose_hold_ends_expires_every_ticket(stack: Any) -> None:
    event = await setup_sale(stack, types=TYPES)
    data = (await order(stack, event, {"early": 2, "vip": 1})).json()["data"]
    await stack.pool.execute(
        "UPDATE tickets SET hold_expires_at = now() WHERE purchase_order_id = $1",
        uuid.UUID(data["id"]),
    )

    async def expired() -> bool:
        return await statuses(stack, data["id"]) == {"expired"}

    await stack.eventually(expired)
    status = await stack.pool.fetchval(
        "SELECT status FROM orders WHERE id = $1", uuid.UUID(data["id"])
    )
    assert status == "expired"
    assert await counters(stack, event["id"]) == await counted_tickets(stack, event["id"])
    assert set((await counters(stack, event["id"])).values()) == {(0, 0)}


async def test_late_money_takes_back_what_is_free_and_refunds_the_rest_per_ticket(
    stack: Any,
) -> None:
    event = await setup_sale(stack, types=TYPES)
    data = (await order(stack, event, {"early": 2, "vip": 1})).json()["data"]
    await stack.pool.execute(
        "UPDATE tickets SET hold_expires_at = now() WHERE purchase_order_id = $1",
        uuid.UUID(data["id"]),
    )

    async def expired() -> bool:
        return await statuses(stack, data["id"]) == {"expired"}

    await stack.eventually(expired)
    assert (await order(stack, event, {"early": 2})).status_code == 201  # early: 1 seat left

    await stack.publish(settled(data))

    async def applied() -> bool:
        return "expired" not in await statuses(stack, data["id"])

    await stack.eventually(applied)
    rows = await stack.pool.fetch(
        "SELECT ticket_type_id, status, cancel_reason FROM tickets WHERE purchase_order_id = $1",
        uuid.UUID(data["id"]),
    )
    by_status = sorted((r["ticket_type_id"], r["status"]) for r in rows)
    assert by_status == [("early", "active"), ("early", "cancelled"), ("vip", "active")]
    refunds = [
        e["payload"]
        for e in await outbox_of_order(stack, data["id"])
        if e["event_type"] == "ticket.refund_requested"
    ]
    assert [(r["amount"], r["reason"]) for r in refunds] == [(100_000, "late_payment_sold_out")]
    assert await counters(stack, event["id"]) == await counted_tickets(stack, event["id"])
    assert (await counters(stack, event["id"]))["type:early"] == (1, 2)


async def test_one_ticket_of_a_paid_order_is_checked_in_and_another_cancelled_for_its_share(
    stack: Any,
) -> None:
    event = await setup_sale(stack, types=TYPES)
    await put_promo(stack, event, "TEMAN", amount_off=40_000)
    buyer = f"buyer-{uuid.uuid4()}"
    data = (await order(stack, event, {"early": 2, "vip": 1}, buyer, promo_code="teman")).json()[
        "data"
    ]
    await stack.publish(settled(data))

    async def active() -> bool:
        return await statuses(stack, data["id"]) == {"active"}

    await stack.eventually(active)
    early = [t for t in data["tickets"] if t["ticket_type_id"] == "early"]
    host = stack.auth(event["host"], "host")
    async with stack.client() as client:
        checked = await client.post(
            "/tickets/check-in",
            json={"attendance_code": early[0]["attendance_code"], "event_id": event["id"]},
            headers=host,
        )
        listed = await client.get(f"/events/{event['id']}/tickets", headers=host)
        cancelled = await client.post(
            f"/tickets/{early[1]['id']}/cancel", headers=stack.auth(buyer)
        )
        whole = await client.post(f"/orders/{data['id']}/cancel", headers=stack.auth(buyer))

    assert checked.status_code == 200, checked.text
    assert checked.json()["data"]["ticket_type_name"] == "Early Bird"
    assert {t["ticket_type_id"] for t in listed.json()["data"]} == {"early", "vip"}
    assert cancelled.status_code == 200, cancelled.text
    refund = next(
        e["payload"]
        for e in await outbox_of_order(stack, data["id"])
        if e["event_type"] == "ticket.refund_requested"
    )
    assert refund["ticket_id"] == early[1]["id"]
    assert refund["amount"] == early[1]["price_paid"] == 92_000
    assert sum(t["price_paid"] for t in data["tickets"]) == data["total"] == 460_000
    assert whole.status_code == 409  # one ticket is checked in: the order stays
    assert whole.json()["error"]["code"] == "already_checked_in"
    assert await counters(stack, event["id"]) == await counted_tickets(stack, event["id"])


async def test_a_cancelled_ticket_ends_refunded_when_its_share_is_back(stack: Any) -> None:
    event = await setup_sale(stack, types=TYPES)
    buyer = f"buyer-{uuid.uuid4()}"
    data = (await order(stack, event, {"early": 2, "vip": 1}, buyer)).json()["data"]
    await stack.publish(settled(data))

    async def active() -> bool:
        return await statuses(stack, data["id"]) == {"active"}

    await stack.eventually(active)
    leaving, *staying = data["tickets"]
    async with stack.client() as client:
        cancelled = await client.post(f"/tickets/{leaving['id']}/cancel", headers=stack.auth(buyer))
    assert cancelled.status_code == 200, cancelled.text
    facts = settled(data).model_dump(exclude={"settled_at", "payment_status", "sequence"})

    def refund(status: str, sequence: int) -> PaymentRefundUpdatedV2:
        return PaymentRefundUpdatedV2(
            **facts,
            refund_id="rf-1",
            refund_amount=leaving["price_paid"],
            method="api",
            refund_status=status,
            sequence=sequence,
            payment_status="partially_refunded" if status == "succeeded" else "settled",
            refunded_ticket_ids=[leaving["id"]],
        )

    async def status_of(ticket_id: str) -> str:
        found: str = await stack.pool.fetchval(
            "SELECT status FROM tickets WHERE id = $1", uuid.UUID(ticket_id)
        )
        return found

    # Under way: still cancelled. Back with the buyer: refunded, and only that ticket.
    await stack.publish(refund("pending", 3))
    await stack.publish(refund("succeeded", 4))

    async def refunded() -> bool:
        return await status_of(leaving["id"]) == "refunded"

    await stack.eventually(refunded)
    assert [await status_of(t["id"]) for t in staying] == ["active", "active"]
    assert await counters(stack, event["id"]) == await counted_tickets(stack, event["id"])


async def test_every_ticket_of_an_order_names_its_payment_when_checked_in(stack: Any) -> None:
    event = await setup_sale(stack, types=TYPES)
    data = (await order(stack, event, {"early": 2, "vip": 1})).json()["data"]
    await stack.publish(settled(data))

    async def active() -> bool:
        return await statuses(stack, data["id"]) == {"active"}

    await stack.eventually(active)
    payment_order_id = data["payment"]["order_id"]
    first = payment_order_id.removeprefix("TKT-")  # the ticket the one transaction is keyed by
    second, third = [t for t in data["tickets"] if t["id"] != first]
    host = stack.auth(event["host"], "host")
    async with stack.client() as client:
        online = await client.post(
            "/tickets/check-in",
            json={"attendance_code": second["attendance_code"], "event_id": event["id"]},
            headers=host,
        )
        offline = await client.post(
            f"/events/{event['id']}/check-ins/sync",
            json={
                "scans": [
                    {
                        "nonce": f"n-{uuid.uuid4()}",
                        "ticket_id": third["id"],
                        "scanned_at": datetime.now(UTC).isoformat(),
                    }
                ]
            },
            headers=host,
        )

    assert online.status_code == 200, online.text
    assert online.json()["data"]["order_id"] == payment_order_id
    assert offline.status_code == 200, offline.text
    assert offline.json()["data"][0]["result"] == "accepted"
    events = await outbox_of_order(stack, data["id"])
    checked_in = {
        e["payload"]["ticket_id"]: e["payload"]
        for e in events
        if e["event_type"] == "ticket.checked_in"
    }
    assert set(checked_in) == {second["id"], third["id"]}
    assert checked_in[second["id"]]["offline"] is False
    assert checked_in[third["id"]]["offline"] is True
    for payload in checked_in.values():
        assert payload["order_id"] == payment_order_id
        assert payload["purchase_order_id"] == data["id"]
        assert payload["order_size"] == 3
        assert payload["ticket_type_name"] == TYPES[payload["ticket_type_id"]]["name"]
