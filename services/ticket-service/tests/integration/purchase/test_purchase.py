"""POST /tickets/purchase on the real stack: holds, refusals, idempotency, races, payments."""

import asyncio
import time
import uuid
from typing import Any

ALICE = f"alice-{uuid.uuid4()}"
BOB = f"bob-{uuid.uuid4()}"
DOUBLE_TAP = f"double-tap-{uuid.uuid4()}"
EAGER = f"eager-{uuid.uuid4()}"
RETRIER = f"retrier-{uuid.uuid4()}"
REUSER = f"reuser-{uuid.uuid4()}"


async def test_paid_purchase_holds_a_seat_and_answers_with_the_snap_payment(stack: Any) -> None:
    event = await stack.put_event(price=75_000, capacity=3)

    response = await stack.buy(event)

    assert response.status_code == 201, response.text
    ticket = response.json()["data"]
    assert ticket["status"] == "pending"
    assert ticket["price_paid"] == 75_000
    assert ticket["is_checked_in"] is False and ticket["checked_in_at"] is None
    assert len(ticket["attendance_code"]) == 4
    assert ticket["hold_expires_at"] is not None
    assert ticket["event"]["title"] == "Jazz di Taman Menteng"
    payment = ticket["payment"]
    assert payment["order_id"] == f"TKT-{ticket['id']}" == ticket["order_id"]
    assert payment["snap_token"] and payment["redirect_url"].startswith("http")
    assert payment["expires_at"]
    assert await stack.seats(event["id"]) == {"capacity": 3, "sold": 0, "held": 1}
    row = await stack.ticket_row(ticket["id"])
    assert row["transaction_status"] == "pending"


async def test_free_ticket_is_active_at_once_with_a_signed_qr_in_its_event(stack: Any) -> None:
    event = await stack.put_event(price=0, capacity=5)

    response = await stack.buy(event)

    assert response.status_code == 201, response.text
    ticket = response.json()["data"]
    assert ticket["status"] == "active"
    assert ticket["payment"] is None
    assert ticket["qr_url"] == f"/tickets/{ticket['id']}/qr"
    row = await stack.ticket_row(ticket["id"])
    assert row["transaction_status"] == "completed" and row["completed_at"] is not None
    assert await stack.seats(event["id"]) == {"capacity": 5, "sold": 1, "held": 0}
    activated = await stack.outbox_payload(ticket["id"], "ticket.activated")
    claims = await stack.verify_offline(activated["qr_payload"], event["id"])
    assert (claims.ticket_id, claims.attendance_code) == (ticket["id"], ticket["attendance_code"])
    assert activated["qr_payload"].startswith("TKT2.")


async def test_two_hundred_buyers_racing_for_fifty_seats_get_exactly_fifty(stack: Any) -> None:
    event = await stack.put_event(price=0, capacity=50)

    async with stack.client() as client:
        started = time.perf_counter()
        responses = await asyncio.gather(*(stack.buy(event, client=client) for _ in range(200)))
        elapsed = time.perf_counter() - started

    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 50, statuses
    assert statuses.count(409) == 150
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"sold_out"}
    assert await stack.seats(event["id"]) == {"capacity": 50, "sold": 50, "held": 0}
    codes = await stack.pool.fetch(
        "SELECT attendance_code FROM tickets WHERE event_id = $1", event["id"]
    )
    assert len({r["attendance_code"] for r in codes}) == len(codes) == 50
    print(f"200 concurrent purchases for 50 seats: {elapsed:.2f}s")


async def test_paid_buyers_racing_for_the_last_seats_get_exactly_the_capacity(
    stack: Any,
) -> None:
    event = await stack.put_event(price=25_000, capacity=8)

    async with stack.client() as client:
        started = time.perf_counter()
        responses = await asyncio.gather(*(stack.buy(event, client=client) for _ in range(40)))
        elapsed = time.perf_counter() - started
    print(f"40 concurrent paid purchases for 8 seats (8 Snap payments opened): {elapsed:.2f}s")

    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 8, statuses
    assert statuses.count(409) == 32
    assert all(r.json()["data"]["payment"]["snap_token"] for r in responses if r.status_code == 201)
    assert await stack.seats(event["id"]) == {"capacity": 8, "sold": 0, "held": 8}


async def test_a_client_amount_that_differs_is_refused_with_the_current_price(
    stack: Any,
) -> None:
    event = await stack.put_event(price=50_000)

    response = await stack.buy(event, amount=10_000)

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "price_mismatch"
    assert error["details"]["price"] == 50_000
    assert await stack.seats(event["id"]) == {"capacity": 10, "sold": 0, "held": 0}


async def test_an_integral_float_amount_is_accepted_and_a_fraction_refused(stack: Any) -> None:
    event = await stack.put_event(price=0)

    assert (await stack.buy(event, amount=0.0)).status_code == 201
    fraction = await stack.buy(event, amount=0.5)
    assert fraction.status_code == 422
    assert fraction.json()["error"]["code"] == "validation_error"


async def test_buying_for_someone_else_is_refused(stack: Any) -> None:
    event = await stack.put_event(price=0)

    response = await stack.buy(event, ALICE, user_id=BOB)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "buyer_mismatch"
    assert (await stack.buy(event, ALICE, user_id=ALICE)).status_code == 201


async def test_purchase_outside_the_sale_window_is_refused(stack: Any) -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    later = await stack.put_event(
        price=0,
        sales_start=(now + timedelta(days=1)).isoformat(),
        sales_end=(now + timedelta(days=2)).isoformat(),
    )
    over = await stack.put_event(
        price=0,
        sales_start=(now - timedelta(days=2)).isoformat(),
        sales_end=(now - timedelta(days=1)).isoformat(),
    )

    not_open = await stack.buy(later)
    closed = await stack.buy(over)

    assert (not_open.status_code, not_open.json()["error"]["code"]) == (409, "sales_not_open")
    assert (closed.status_code, closed.json()["error"]["code"]) == (409, "sales_closed")


async def test_unknown_event_is_404(stack: Any) -> None:
    fake = {"id": str(uuid.uuid4()), "price": 0}
    response = await stack.buy(fake)
    assert (response.status_code, response.json()["error"]["code"]) == (404, "event_not_found")


async def test_per_user_limit_holds_even_when_one_user_races_themself(stack: Any) -> None:
    event = await stack.put_event(price=0, capacity=20, max_per_user=2)

    async with stack.client() as client:
        responses = await asyncio.gather(
            *(stack.buy(event, EAGER, client=client) for _ in range(5))
        )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 201, 409, 409, 409]
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {
        "per_user_limit_reached"
    }
    assert (await stack.buy(event)).status_code == 201  # someone else still can


async def test_sixth_purchase_attempt_in_a_minute_is_429_with_retry_after(stack: Any) -> None:
    event = await stack.put_event(price=0, capacity=20)
    user = f"hasty-{uuid.uuid4()}"

    responses = [await stack.buy(event, user) for _ in range(6)]

    assert [r.status_code for r in responses] == [201] * 5 + [429]
    limited = responses[-1]
    assert limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60


async def test_the_same_idempotency_key_returns_the_first_answer_and_one_ticket(
    stack: Any,
) -> None:
    event = await stack.put_event(price=40_000, capacity=5)
    headers = {"Idempotency-Key": f"key-{uuid.uuid4()}"}

    first = await stack.buy(event, RETRIER, headers=headers)
    again = await stack.buy(event, RETRIER, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    count = await stack.pool.fetchval(
        "SELECT count(*) FROM tickets WHERE event_id = $1", event["id"]
    )
    assert count == 1
    assert await stack.seats(event["id"]) == {"capacity": 5, "sold": 0, "held": 1}


async def test_concurrent_retries_with_one_key_make_one_ticket(stack: Any) -> None:
    event = await stack.put_event(price=40_000, capacity=5)
    headers = {"Idempotency-Key": f"key-{uuid.uuid4()}"}

    async with stack.client() as client:
        responses = await asyncio.gather(
            *(stack.buy(event, DOUBLE_TAP, client=client, headers=headers) for _ in range(4))
        )

    ok = [r for r in responses if r.status_code in (200, 201)]
    assert ok, [r.text for r in responses]
    assert {r.json()["data"]["id"] for r in ok} == {ok[0].json()["data"]["id"]}
    assert {r.json()["data"]["payment"]["snap_token"] for r in ok} == {
        ok[0].json()["data"]["payment"]["snap_token"]
    }
    assert all(r.status_code in (200, 201, 409) for r in responses)
    count = await stack.pool.fetchval(
        "SELECT count(*) FROM tickets WHERE event_id = $1", event["id"]
    )
    assert count == 1


async def test_an_idempotency_key_reused_for_another_purchase_is_refused(stack: Any) -> None:
    event = await stack.put_event(price=0, capacity=5)
    other = await stack.put_event(price=0, capacity=5)
    headers = {"Idempotency-Key": f"key-{uuid.uuid4()}"}

    assert (await stack.buy(event, REUSER, headers=headers)).status_code == 201
    reused = await stack.buy(other, REUSER, headers=headers)

    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"


async def test_the_same_key_from_another_user_is_their_own_purchase(stack: Any) -> None:
    event = await stack.put_event(price=0, capacity=5)
    headers = {"Idempotency-Key": "shared-key"}

    a = await stack.buy(event, f"a-{uuid.uuid4()}", headers=headers)
    b = await stack.buy(event, f"b-{uuid.uuid4()}", headers=headers)

    assert a.status_code == b.status_code == 201
    assert a.json()["data"]["id"] != b.json()["data"]["id"]


async def test_payment_service_down_releases_the_hold_and_answers_503(stack: Any) -> None:
    event = await stack.put_event(price=60_000, capacity=1)
    payment = stack.processes["payment"]
    payment.stop()
    try:
        response = await stack.buy(event)
    finally:
        await payment.start()

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "payment_unavailable"
    assert await stack.seats(event["id"]) == {"capacity": 1, "sold": 0, "held": 0}
    ticket_id = await stack.pool.fetchval("SELECT id FROM tickets WHERE event_id = $1", event["id"])
    assert await stack.ticket_status(str(ticket_id)) == "expired"
    # The released seat is for sale again.
    assert (await stack.buy(event)).status_code == 201


async def test_purchase_needs_a_token(stack: Any) -> None:
    event = await stack.put_event(price=0)
    async with stack.client() as client:
        response = await client.post("/tickets/purchase", json=stack.purchase_body(event))
    assert response.status_code == 401


async def test_activation_event_reaches_the_broker(stack: Any) -> None:
    event = await stack.put_event(price=0)
    ticket = (await stack.buy(event)).json()["data"]

    async def sent() -> bool:
        return bool(
            await stack.pool.fetchval(
                """SELECT sent_at IS NOT NULL FROM outbox
                    WHERE body->'payload'->>'ticket_id' = $1""",
                ticket["id"],
            )
        )

    assert await stack.eventually(sent)


async def test_a_retry_after_a_lost_answer_resumes_the_same_ticket_and_payment(
    stack: Any,
) -> None:
    event = await stack.put_event(price=40_000, capacity=5)
    user = f"crashy-{uuid.uuid4()}"
    key = f"key-{uuid.uuid4()}"
    first = await stack.buy(event, user, headers={"Idempotency-Key": key})
    assert first.status_code == 201
    # As if the process died after holding the seat and opening the payment, before it could
    # record its answer: the key knows its ticket, not the answer.
    await stack.pool.execute(
        """UPDATE purchase_requests SET response_status = NULL, response_body = NULL
            WHERE user_id = $1 AND idempotency_key = $2""",
        user,
        key,
    )

    retry = await stack.buy(event, user, headers={"Idempotency-Key": key})

    assert retry.status_code in (200, 201), retry.text
    assert retry.json()["data"]["id"] == first.json()["data"]["id"]
    assert retry.json()["data"]["payment"] == first.json()["data"]["payment"]
    assert await stack.seats(event["id"]) == {"capacity": 5, "sold": 0, "held": 1}
