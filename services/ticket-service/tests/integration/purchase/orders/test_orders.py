"""Orders: ticket types, overlapping quotas, several tickets held at once, limits, one payment."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from orders_kit import counted_tickets, counters, order, outbox_of_order, settled, setup_sale

TYPES = {
    "early": {"name": "Early Bird", "price": 100_000, "capacity": 5, "position": 1},
    "vip": {"name": "VIP", "price": 300_000, "position": 0, "max_per_order": 2},
    "crew": {"name": "Crew", "price": 0, "hidden": True, "position": 2},
}
FESTIVAL = {"festival": {"name": "Festival", "size": 6, "ticket_type_ids": ["early", "vip"]}}


async def test_the_event_lists_its_types_in_position_order_hidden_ones_for_its_host(
    stack: Any,
) -> None:
    event = await setup_sale(stack, types=TYPES, quotas=FESTIVAL)
    async with stack.client() as client:
        public = (await client.get(f"/events/{event['id']}", headers=stack.auth("u-1"))).json()
        host = await client.get(f"/events/{event['id']}", headers=stack.auth(event["host"], "host"))

    types = public["data"]["ticket_types"]
    assert [t["id"] for t in types] == ["default", "vip", "early"]
    assert {t["id"]: t["available"] for t in types} == {"default": 20, "vip": 6, "early": 5}
    assert all(t["on_sale"] for t in types)
    assert [t["id"] for t in host.json()["data"]["ticket_types"]] == [
        "default",
        "vip",
        "early",
        "crew",
    ]


async def test_an_event_made_as_before_has_its_default_type_at_its_price(stack: Any) -> None:
    event = await stack.put_event(price=45_000, capacity=3)
    async with stack.client() as client:
        body = (await client.get(f"/events/{event['id']}", headers=stack.auth("u-1"))).json()
    assert body["data"]["ticket_types"] == [
        {
            "id": "default",
            "name": "Reguler",
            "description": None,
            "price": 45_000,
            "currency": "IDR",
            "capacity": None,
            "available": 3,
            "on_sale": True,
            "sales_start": None,
            "sales_end": None,
            "max_per_order": None,
            "position": 0,
            "hidden": False,
        }
    ]
    bought = (await stack.buy(event)).json()["data"]
    assert (bought["ticket_type_id"], bought["ticket_type_name"]) == ("default", "Reguler")
    assert bought["purchase_order_id"] is not None


async def test_an_order_of_three_holds_every_ticket_with_its_attendee_and_one_payment(
    stack: Any,
) -> None:
    event = await setup_sale(stack, types=TYPES, quotas=FESTIVAL)
    attendees = [
        {"name": "Siti Rahma", "email": "siti@example.id"},
        {"name": "Budi Santoso", "email": "budi@example.id", "phone": "+628111"},
        {"name": "Ayu Lestari", "email": "ayu@example.id"},
    ]

    response = await order(stack, event, {"early": 2, "vip": 1}, attendees=attendees)

    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert (data["status"], data["total"], data["discount"]) == ("pending", 500_000, 0)
    by_name = {t["attendee"]["name"]: t for t in data["tickets"]}
    assert set(by_name) == {a["name"] for a in attendees}
    assert by_name["Budi Santoso"]["attendee"] == attendees[1]
    assert by_name["Ayu Lestari"]["holder_phone"] is None
    assert sorted(t["ticket_type_id"] for t in data["tickets"]) == ["early", "early", "vip"]
    assert {t["status"] for t in data["tickets"]} == {"pending"}
    assert data["payment"]["order_id"] == f"TKT-{data['tickets'][0]['id']}"
    assert data["payment"]["snap_token"]
    assert data["items"] == [
        {"ticket_type_id": "vip", "name": "VIP", "price": 300_000, "quantity": 1},
        {"ticket_type_id": "early", "name": "Early Bird", "price": 100_000, "quantity": 2},
    ]
    seats = await counters(stack, event["id"])
    assert seats == {
        "event": (0, 3),
        "type:default": (0, 0),
        "type:early": (0, 2),
        "type:vip": (0, 1),
        "type:crew": (0, 0),
        "quota:festival": (0, 3),
    }
    assert seats == await counted_tickets(stack, event["id"])


async def test_an_order_whose_second_item_is_sold_out_holds_nothing(stack: Any) -> None:
    event = await setup_sale(stack, types=TYPES, quotas=FESTIVAL)
    assert (await order(stack, event, {"early": 4})).status_code == 201

    response = await order(stack, event, {"vip": 1, "early": 2})

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "sold_out"
    assert (error["details"]["item"], error["details"]["ticket_type_id"]) == (1, "early")
    assert error["details"]["available"] == 1
    assert "Item 1 (early)" in error["message"]
    assert (await counters(stack, event["id"]))["event"] == (0, 4)
    assert await counters(stack, event["id"]) == await counted_tickets(stack, event["id"])


async def test_a_shared_quota_stops_both_types_when_full(stack: Any) -> None:
    event = await setup_sale(stack, types=TYPES, quotas=FESTIVAL)
    assert (await order(stack, event, {"early": 3, "vip": 1})).status_code == 201
    second = await order(stack, event, {"vip": 2})
    assert second.status_code == 201
    full = await order(stack, event, {"vip": 1})

    assert full.status_code == 409
    assert full.json()["error"]["details"]["quota_id"] == "festival"
    assert (await counters(stack, event["id"]))["quota:festival"] == (0, 6)
    assert (await order(stack, event, {"default": 1})).status_code == 201  # outside the quota


async def test_order_limits_per_order_per_type_per_user_and_per_sale_window(stack: Any) -> None:
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    types = {**TYPES, "late": {"name": "Late", "price": 10_000, "sales_start": later}}
    event = await setup_sale(stack, capacity=50, types=types, max_per_user=6)
    buyer = f"buyer-{uuid.uuid4()}"

    too_many = await order(stack, event, {"early": 3, "default": 2})
    assert too_many.status_code == 422
    assert too_many.json()["error"]["code"] == "too_many_tickets"
    assert too_many.json()["error"]["details"]["max_per_order"] == 4
    vip = await order(stack, event, {"vip": 3})
    assert vip.status_code == 422
    assert vip.json()["error"]["details"] == {
        "item": 0,
        "ticket_type_id": "vip",
        "max_per_order": 2,
    }
    not_open = await order(stack, event, {"late": 1})
    assert not_open.status_code == 409
    assert not_open.json()["error"]["code"] == "sales_not_open"
    hidden = await order(stack, event, {"crew": 1})
    assert hidden.status_code == 422
    assert hidden.json()["error"]["code"] == "ticket_type_not_found"

    assert (await order(stack, event, {"early": 4}, buyer)).status_code == 201
    across = await order(stack, event, {"default": 3}, buyer)
    assert across.status_code == 409
    assert across.json()["error"]["code"] == "per_user_limit_reached"
    assert (await order(stack, event, {"default": 2}, buyer)).status_code == 201


async def test_orders_count_in_the_purchase_rate_limit(stack: Any) -> None:
    event = await setup_sale(stack, capacity=50)
    buyer = f"buyer-{uuid.uuid4()}"
    assert (await stack.buy(event, buyer)).status_code == 201
    for _ in range(4):
        assert (await order(stack, event, {"default": 1}, buyer)).status_code == 201

    limited = await order(stack, event, {"default": 1}, buyer)

    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) > 0


async def test_an_event_may_allow_more_tickets_per_order(stack: Any) -> None:
    event = await setup_sale(stack, capacity=20, max_per_order=6)
    assert (await order(stack, event, {"default": 6})).status_code == 201
    assert (await order(stack, event, {"default": 7})).status_code == 422


async def test_attendees_are_one_per_ticket_or_none(stack: Any) -> None:
    event = await setup_sale(stack, types=TYPES)
    one = [{"name": "Budi", "email": "budi@example.id"}]

    response = await order(stack, event, {"early": 2}, attendees=one)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_order"
    defaulted = (await order(stack, event, {"early": 2})).json()["data"]["tickets"]
    assert {t["holder_email"] for t in defaulted} == {"siti@example.id"}


async def test_an_order_retried_with_its_key_gets_its_first_answer(stack: Any) -> None:
    event = await setup_sale(stack, types=TYPES)
    buyer, key = f"buyer-{uuid.uuid4()}", {"Idempotency-Key": str(uuid.uuid4())}

    first = await order(stack, event, {"early": 2}, buyer, headers=key)
    again = await order(stack, event, {"early": 2}, buyer, headers=key)
    other = await order(stack, event, {"early": 1}, buyer, headers=key)

    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert (await counters(stack, event["id"]))["type:early"] == (0, 2)


async def test_my_orders_page_and_nobody_else_sees_an_order(stack: Any) -> None:
    event = await setup_sale(stack, types=TYPES)
    buyer = f"buyer-{uuid.uuid4()}"
    made = [(await order(stack, event, {"early": 1}, buyer)).json()["data"] for _ in range(3)]
    async with stack.client() as client:
        page = (await client.get("/orders?limit=2", headers=stack.auth(buyer))).json()
        rest = await client.get(
            f"/orders?limit=2&cursor={page['next_cursor']}", headers=stack.auth(buyer)
        )
        mine = await client.get(f"/orders/{made[0]['id']}", headers=stack.auth(buyer))
        theirs = await client.get(f"/orders/{made[0]['id']}", headers=stack.auth("someone"))
        host = await client.get(
            f"/orders/{made[0]['id']}", headers=stack.auth(event["host"], "host")
        )

    ids = [o["id"] for o in page["data"]] + [o["id"] for o in rest.json()["data"]]
    assert ids == [o["id"] for o in reversed(made)]
    assert rest.json()["next_cursor"] is None
    assert mine.json()["data"]["payment"]["order_id"] == made[0]["payment"]["order_id"]
    assert theirs.status_code == 404
    assert theirs.json()["error"]["code"] == "order_not_found"
    assert host.status_code == 200


async def test_one_settlement_activates_every_ticket_and_announces_the_order_once(
    stack: Any,
) -> None:
    event = await setup_sale(stack, types=TYPES, quotas=FESTIVAL)
    data = (await order(stack, event, {"early": 2, "vip": 1})).json()["data"]

    await stack.publish(settled(data))

    async def paid() -> bool:
        return bool(
            await stack.pool.fetchval(
                "SELECT status = 'paid' FROM orders WHERE id = $1", uuid.UUID(data["id"])
            )
        )

    await stack.eventually(paid)
    statuses = await stack.pool.fetch(
        "SELECT status FROM tickets WHERE purchase_order_id = $1", uuid.UUID(data["id"])
    )
    assert {r["status"] for r in statuses} == {"active"}
    assert await counters(stack, event["id"]) == await counted_tickets(stack, event["id"])
    assert (await counters(stack, event["id"]))["quota:festival"] == (3, 0)
    events = await outbox_of_order(stack, data["id"])
    kinds = [e["event_type"] for e in events]
    assert kinds.count("ticket.activated") == 3 and kinds.count("order.activated") == 1
    assert all(e["version"] == 2 for e in events if e["event_type"] == "ticket.activated")
    announced = next(e["payload"] for e in events if e["event_type"] == "order.activated")
    assert {t["ticket_id"] for t in announced["tickets"]} == {t["id"] for t in data["tickets"]}
    for shown in announced["tickets"]:  # each e-ticket's QR verifies offline
        claims = await stack.verify_offline(shown["qr_payload"], event["id"])
        assert (claims.ticket_id, claims.attendance_code) == (
            shown["ticket_id"],
            shown["attendance_code"],
        )
        assert claims.ticket_type_id == shown["ticket_type_id"]
    assert len({t["qr_payload"].split(".")[5] for t in announced["tickets"]}) == 1  # one key
    by_ticket = {
        e["payload"]["ticket_id"]: e["payload"]
        for e in events
        if e["event_type"] == "ticket.activated"
    }
    assert {t["ticket_id"]: t["qr_payload"] for t in announced["tickets"]} == {
        ticket_id: payload["qr_payload"] for ticket_id, payload in by_ticket.items()
    }


async def test_cancelling_a_pending_order_releases_every_seat(stack: Any) -> None:
    event = await setup_sale(stack, types=TYPES, quotas=FESTIVAL)
    buyer = f"buyer-{uuid.uuid4()}"
    data = (await order(stack, event, {"early": 2, "vip": 1}, buyer)).json()["data"]
    async with stack.client() as client:
        response = await client.post(f"/orders/{data['id']}/cancel", headers=stack.auth(buyer))
        again = await client.post(f"/orders/{data['id']}/cancel", headers=stack.auth(buyer))

    assert response.status_code == 200, response.text
    assert response.json()["data"]["status"] == "cancelled"
    assert {t["status"] for t in response.json()["data"]["tickets"]} == {"cancelled"}
    assert again.status_code == 409
    assert set((await counters(stack, event["id"])).values()) == {(0, 0)}


async def test_cancelling_a_paid_order_cancels_each_ticket_and_refunds_its_share(
    stack: Any,
) -> None:
    event = await setup_sale(stack, types=TYPES, quotas=FESTIVAL)
    buyer = f"buyer-{uuid.uuid4()}"
    data = (await order(stack, event, {"early": 2, "vip": 1}, buyer)).json()["data"]
    await stack.publish(settled(data))

    async def active() -> bool:
        return bool(
            await stack.pool.fetchval(
                "SELECT status = 'paid' FROM orders WHERE id = $1", uuid.UUID(data["id"])
            )
        )

    await stack.eventually(active)
    async with stack.client() as client:
        response = await client.post(f"/orders/{data['id']}/cancel", headers=stack.auth(buyer))

    assert response.status_code == 200, response.text
    assert response.json()["data"]["refund_requested"] == 500_000
    refunds = [
        e["payload"]
        for e in await outbox_of_order(stack, data["id"])
        if e["event_type"] == "ticket.refund_requested"
    ]
    assert sorted(r["amount"] for r in refunds) == [100_000, 100_000, 300_000]
    assert {r["order_size"] for r in refunds} == {3}
    assert set((await counters(stack, event["id"])).values()) == {(0, 0)}
