"""Refunds (admin and ticket.refund_requested) and the expiry of released seats at Midtrans."""

import asyncio
from datetime import UTC, datetime

from ticketing_contracts import TicketCancelled, TicketExpired, TicketRefundRequested

REFUNDED, FAILED, SETTLED = "payment.refunded", "payment.failed", "payment.settled"


async def settled_order(stack, payment_type: str = "gopay") -> str:
    order_id = await stack.opened()
    await stack.pay(order_id, payment_type, "settlement")
    await stack.wait_status(order_id, "settled")
    return order_id


async def refund(stack, order_id: str, body: dict, who: str = "admin-1"):
    return await stack.http.post(
        f"{stack.service_url}/api/payment/admin/orders/{order_id}/refund",
        json=body,
        headers=stack.token(who, "admin"),
    )


async def midtrans_refunds(stack, order_id: str) -> list:
    return (await stack.core("GET", f"/v2/{order_id}/status")).json().get("refunds", [])


def ticket_facts(order_id: str) -> dict:
    return {
        "ticket_id": f"ticket-{order_id}",
        "event_id": "event-1",
        "user_id": "user-42",
        "order_id": order_id,
        "attendance_code": "K7P3",
        "holder_name": "Siti Rahma",
        "holder_email": "siti@example.id",
        "event_title": "Jakarta Jazz Night",
        "event_starts_at": "2026-12-20T19:00:00+07:00",
    }


async def test_an_admin_refund_retried_twice_refunds_once(stack) -> None:
    order_id = await settled_order(stack)
    body = {"reason": "event cancelled", "request_id": "support-123"}
    first, second = await asyncio.gather(
        refund(stack, order_id, body), refund(stack, order_id, body)
    )
    assert first.status_code == second.status_code == 200, (first.text, second.text)
    assert first.json()["data"]["refund_key"] == second.json()["data"]["refund_key"]
    assert {first.json()["data"]["status"], second.json()["data"]["status"]} <= {
        "requested",
        "pending",
        "succeeded",
    }
    await stack.wait_status(order_id, "refunded")  # Midtrans' final notification
    again = await refund(stack, order_id, body)
    assert again.json()["data"]["status"] == "succeeded"
    assert len(await midtrans_refunds(stack, order_id)) == 1
    await stack.deliveries_settled(order_id)
    events = await stack.wait_events(order_id, REFUNDED)
    assert len(events) == 1
    payload = events[0]["payload"]
    assert (payload["refund_amount"], payload["refunded_total"], payload["fully_refunded"]) == (
        150_000,
        150_000,
        True,
    )


async def test_partial_refunds_add_up_to_a_full_refund(stack) -> None:
    order_id = await settled_order(stack, "credit_card")
    part = await refund(stack, order_id, {"reason": "late", "amount": 50_000, "request_id": "a"})
    assert part.status_code == 200, part.text
    await stack.wait_status(order_id, "partially_refunded")
    rest = await refund(stack, order_id, {"reason": "rest", "amount": 100_000, "request_id": "b"})
    assert rest.status_code == 200, rest.text
    await stack.wait_status(order_id, "refunded")
    events = await stack.wait_events(order_id, REFUNDED, count=2)
    await stack.deliveries_settled(order_id)
    assert [(e["payload"]["refund_amount"], e["payload"]["refunded_total"]) for e in events] == [
        (50_000, 50_000),
        (100_000, 150_000),
    ]
    too_much = await refund(stack, order_id, {"reason": "more", "amount": 1, "request_id": "c"})
    assert too_much.status_code == 409


async def test_an_admin_refund_of_a_va_becomes_a_payout(stack) -> None:
    order_id = await settled_order(stack, "bank_transfer")  # Midtrans cannot refund a VA
    response = await refund(stack, order_id, {"reason": "event cancelled"})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["method"], data["status"]) == ("payout", "awaiting_payout")
    assert await midtrans_refunds(stack, order_id) == []
    assert (await stack.payment(order_id))["status"] == "settled"


async def test_a_refund_midtrans_refuses_becomes_a_payout_and_flags_the_payment(stack) -> None:
    order_id = await settled_order(stack, "bank_transfer")
    # We believe the method is refundable, Midtrans answers 412: the money goes back by hand.
    await stack.db.execute(
        "UPDATE payments SET payment_type = 'gopay' WHERE order_id = $1", order_id
    )
    response = await refund(stack, order_id, {"reason": "event cancelled"})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["method"], data["status"]) == ("payout", "awaiting_payout")
    assert "Merchant cannot modify" in data["last_error"]
    assert (await stack.payment(order_id))["flagged_at"] is not None


async def test_a_refund_midtrans_cannot_find_is_a_clear_error_and_flags_the_payment(stack) -> None:
    order_id = await settled_order(stack, "gopay")
    await stack.db.execute(
        "UPDATE payments SET transaction_id = 'not-at-midtrans' WHERE order_id = $1", order_id
    )
    response = await refund(stack, order_id, {"reason": "event cancelled"})
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "midtrans_refused"
    assert response.json()["error"]["details"]["refund"]["status"] == "failed"
    payment = await stack.payment(order_id)
    assert (payment["status"], payment["flagged_at"] is not None) == ("settled", True)


async def test_refunds_need_an_admin_and_a_paid_payment(stack) -> None:
    order_id = await stack.opened()
    forbidden = await stack.http.post(
        f"{stack.service_url}/api/payment/admin/orders/{order_id}/refund",
        json={"reason": "x"},
        headers=stack.token("user-42", "user"),
    )
    assert forbidden.status_code == 403
    unpaid = await refund(stack, order_id, {"reason": "x"})
    assert unpaid.status_code == 409
    assert unpaid.json()["error"]["code"] == "not_refundable"


async def test_a_refund_requested_twice_by_ticket_service_refunds_once(stack) -> None:
    order_id = await settled_order(stack, "shopeepay")
    request = TicketRefundRequested(
        **ticket_facts(order_id), amount=150_000, reason="sold_out_after_late_payment"
    )
    await stack.publish(request)
    await stack.publish(request)  # ticket-service asked twice (two event ids)
    await stack.wait_status(order_id, "refunded")
    await stack.deliveries_settled(order_id)
    await asyncio.sleep(0.3)
    assert len(await midtrans_refunds(stack, order_id)) == 1
    assert len(stack.tap.of(order_id, REFUNDED)) == 1
    rows = await stack.db.fetch("SELECT status, source FROM refunds WHERE order_id = $1", order_id)
    assert [(r["status"], r["source"]) for r in rows] == [("succeeded", "ticket.refund_requested")]


async def test_an_expired_ticket_expires_its_open_midtrans_transaction(stack) -> None:
    order_id = await stack.opened()
    await stack.pay(order_id, "bank_transfer", "pending", bank="bni")
    await stack.wait_status(order_id, "pending")
    await stack.publish(TicketExpired(**ticket_facts(order_id), expired_at=datetime.now(UTC)))
    await stack.wait_status(order_id, "expired")
    status = (await stack.core("GET", f"/v2/{order_id}/status")).json()
    assert status["transaction_status"] == "expire"
    await stack.deliveries_settled(order_id)
    failed = await stack.wait_events(order_id, FAILED)
    assert len(failed) == 1
    assert failed[0]["payload"]["transaction_status"] == "expire"
    # The customer can no longer pay for the released seat.
    paid = await stack.http.post(
        f"{stack.sandbox_url}/_sandbox/orders/{order_id}/pay", json={"outcome": "settlement"}
    )
    assert paid.status_code == 409


async def test_a_hold_cancelled_before_payment_closes_its_midtrans_transaction(stack) -> None:
    order_id = await stack.opened()
    await stack.pay(order_id, "bank_transfer", "pending", bank="bca")
    await stack.wait_status(order_id, "pending")
    cancelled = TicketCancelled(
        **ticket_facts(order_id),
        cancelled_at=datetime.now(UTC),
        cancelled_by="user-42",
        reason="holder_cancelled",
    )
    await stack.publish(cancelled)
    await stack.wait_status(order_id, "expired")
    status = (await stack.core("GET", f"/v2/{order_id}/status")).json()
    assert status["transaction_status"] == "expire"
    paid = await stack.http.post(
        f"{stack.sandbox_url}/_sandbox/orders/{order_id}/pay", json={"outcome": "settlement"}
    )
    assert paid.status_code == 409


async def test_a_cancelled_ticket_whose_order_was_paid_is_left_to_the_refund(stack) -> None:
    order_id = await settled_order(stack)
    cancelled = TicketCancelled(
        **ticket_facts(order_id),
        cancelled_at=datetime.now(UTC),
        cancelled_by="host-1",
        reason="host_cancelled",
    )
    await stack.publish(cancelled)
    await asyncio.sleep(0.6)
    assert await stack.status_of(order_id) == "settled"
    assert stack.tap.of(order_id, FAILED) == []


async def test_an_expired_ticket_whose_order_was_paid_changes_nothing(stack) -> None:
    order_id = await settled_order(stack)
    await stack.publish(TicketExpired(**ticket_facts(order_id), expired_at=datetime.now(UTC)))
    await asyncio.sleep(0.6)
    assert await stack.status_of(order_id) == "settled"
    assert stack.tap.of(order_id, FAILED) == []


async def test_a_crash_after_midtrans_refunded_neither_loses_nor_doubles_the_refund(stack) -> None:
    from payment_service.domain.gateway import refund_key

    order_id = await settled_order(stack, "gopay")
    key = refund_key(order_id, "ticket-refund")
    # The intent was committed, then Midtrans refunded, then the process died before recording.
    await stack.db.execute(
        """INSERT INTO refunds (refund_key, order_id, amount, reason, source, next_attempt_at)
           VALUES ($1, $2, 150000, 'sold out', 'ticket.refund_requested', now() + interval '1h')""",
        key,
        order_id,
    )
    done = await stack.core(
        "POST", f"/v2/{order_id}/refund", json={"refund_key": key, "amount": 150000, "reason": "x"}
    )
    assert done.status_code == 200, done.text
    await stack.db.execute("UPDATE refunds SET next_attempt_at = now() WHERE refund_key = $1", key)

    async def finished() -> bool:
        return (
            await stack.db.fetchval("SELECT status FROM refunds WHERE refund_key = $1", key)
            == "succeeded"
        )

    for _ in range(100):
        if await finished():
            break
        await asyncio.sleep(0.05)
    assert await finished()
    await stack.wait_status(order_id, "refunded")
    await stack.deliveries_settled(order_id)
    await asyncio.sleep(0.3)
    assert len(await midtrans_refunds(stack, order_id)) == 1
    assert len(stack.tap.of(order_id, REFUNDED)) == 1
