"""Promo codes: taken with the hold, given back when it ends, case-insensitive, never leaked."""

import asyncio
import time
import uuid
from typing import Any

from orders_kit import counters, order, outbox_of_order, put_promo, setup_sale

TYPES = {
    "early": {"name": "Early Bird", "price": 100_000},
    "vip": {"name": "VIP", "price": 300_000},
}


async def test_a_percent_code_discounts_its_types_and_the_shares_add_up(stack: Any) -> None:
    event = await setup_sale(stack, types=TYPES)
    put = await put_promo(stack, event, "jakarta10", percent_off=10, ticket_type_ids=["vip"])
    assert put.status_code == 201, put.text
    assert put.json()["data"]["code"] == "JAKARTA10"

    response = await order(stack, event, {"early": 1, "vip": 2}, promo_code="Jakarta10")

    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert (data["total"], data["discount"], data["promo_code"]) == (640_000, 60_000, "JAKARTA10")
    assert sorted(t["price_paid"] for t in data["tickets"]) == [100_000, 270_000, 270_000]
    assert sum(t["price_paid"] for t in data["tickets"]) == data["total"]


async def test_an_amount_code_is_shared_by_price_and_never_below_zero(stack: Any) -> None:
    event = await setup_sale(stack, types=TYPES)
    await put_promo(stack, event, "HEMAT", amount_off=100_001)

    data = (await order(stack, event, {"early": 1, "vip": 1}, promo_code="hemat")).json()["data"]

    assert (data["total"], data["discount"]) == (299_999, 100_001)
    assert sorted(t["price_paid"] for t in data["tickets"]) == [74_999, 225_000]


async def test_a_full_discount_makes_the_order_free_and_active_at_once(stack: Any) -> None:
    event = await setup_sale(stack, types=TYPES)
    await put_promo(stack, event, "GRATIS", percent_off=100)

    response = await order(stack, event, {"early": 2}, promo_code="gratis")

    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert (data["status"], data["total"], data["payment"]) == ("paid", 0, None)
    assert {t["status"] for t in data["tickets"]} == {"active"}
    assert all(t["qr_url"] for t in data["tickets"])
    kinds = [e["event_type"] for e in await outbox_of_order(stack, data["id"])]
    assert sorted(kinds) == ["order.activated", "ticket.activated", "ticket.activated"]
    assert (await counters(stack, event["id"]))["type:early"] == (2, 0)


async def test_a_wrong_code_is_refused_alike_whether_another_event_has_it(stack: Any) -> None:
    event = await setup_sale(stack, types=TYPES)
    other = await setup_sale(stack, types=TYPES)
    await put_promo(stack, other, "OTHERS", percent_off=50)

    theirs = await order(stack, event, {"early": 1}, promo_code="others")
    nobody = await order(stack, event, {"early": 1}, promo_code="NOSUCH")

    assert theirs.status_code == nobody.status_code == 422
    assert theirs.json() == nobody.json()
    assert theirs.json()["error"]["code"] == "invalid_promo_code"
    assert set((await counters(stack, event["id"])).values()) == {(0, 0)}


async def test_a_code_for_other_types_or_used_up_per_user_is_refused(stack: Any) -> None:
    event = await setup_sale(stack, types=TYPES)
    await put_promo(stack, event, "VIPONLY", percent_off=5, ticket_type_ids=["vip"])
    await put_promo(stack, event, "ONCEEACH", percent_off=5, max_uses_per_user=1)
    buyer = f"buyer-{uuid.uuid4()}"

    wrong_type = await order(stack, event, {"early": 1}, promo_code="VIPONLY")
    first = await order(stack, event, {"early": 1}, buyer, promo_code="onceeach")
    second = await order(stack, event, {"early": 1}, buyer, promo_code="ONCEEACH")

    assert wrong_type.status_code == 422
    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "promo_code_used_up"


async def test_a_use_comes_back_when_the_hold_expires_or_the_order_is_cancelled(
    stack: Any,
) -> None:
    event = await setup_sale(stack, types=TYPES)
    await put_promo(stack, event, "ONE", amount_off=10_000, max_uses=1)
    buyer = f"buyer-{uuid.uuid4()}"
    first = (await order(stack, event, {"early": 1}, buyer, promo_code="ONE")).json()["data"]
    assert (await order(stack, event, {"early": 1}, promo_code="ONE")).status_code == 409

    await stack.end_hold(first["tickets"][0]["id"])

    async def given_back() -> bool:
        uses = await stack.pool.fetchval(
            "SELECT uses FROM promo_codes WHERE event_id = $1 AND code = 'ONE'", event["id"]
        )
        return bool(uses == 0)

    await stack.eventually(given_back)
    second = (await order(stack, event, {"early": 1}, buyer, promo_code="ONE")).json()["data"]
    async with stack.client() as client:
        cancelled = await client.post(f"/orders/{second['id']}/cancel", headers=stack.auth(buyer))
    assert cancelled.status_code == 200
    assert await given_back()
    assert (await order(stack, event, {"early": 1}, promo_code="ONE")).status_code == 201


async def test_a_single_use_code_raced_twenty_ways_is_used_once(stack: Any) -> None:
    event = await setup_sale(stack, capacity=50, types=TYPES)
    await put_promo(stack, event, "FIRST", percent_off=50, max_uses=1)

    async with stack.client() as client:
        started = time.perf_counter()
        responses = await asyncio.gather(
            *(order(stack, event, {"vip": 1}, client=client, promo_code="first") for _ in range(20))
        )
        elapsed = time.perf_counter() - started
    print(f"single-use promo code raced 20 ways: {elapsed:.2f}s")

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 19, statuses
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {
        "promo_code_used_up"
    }
    uses = await stack.pool.fetchval(
        "SELECT uses FROM promo_codes WHERE event_id = $1 AND code = 'FIRST'", event["id"]
    )
    assert uses == 1
    assert (await counters(stack, event["id"]))["type:vip"] == (0, 1)


async def test_only_the_host_sets_promo_codes_and_bad_ones_are_refused(stack: Any) -> None:
    event = await setup_sale(stack, types=TYPES)
    async with stack.client() as client:
        stranger = await client.put(
            f"/events/{event['id']}/promo-codes/X1",
            json={"percent_off": 10},
            headers=stack.auth("another-host", "host"),
        )
    both = await put_promo(stack, event, "BOTH", percent_off=10, amount_off=1000)
    unknown_type = await put_promo(stack, event, "T", percent_off=10, ticket_type_ids=["nope"])

    assert stranger.status_code == 403
    assert both.status_code == 422
    assert unknown_type.status_code == 422
