"""Buying a ticket through the gateway: a host sets up an event, a user buys, the sandbox pays.

The happy path ends with an active ticket in `my-tickets` showing its event; a declined card
keeps the hold and a retry on the same order activates it; an expired hold ends with a ticket
that is not active and the seat free again; a buyer who copies a pending notification's
signature to settle their own payment changes nothing.
"""

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
from e2e_steps import buy_ticket, create_event, mails_to, pay_in_sandbox, ticket_in_status
from e2e_waiting import eventually


class Buyer:
    """One scenario's host, buyer and event, talking to the gateway."""

    def __init__(self, stack: Any, client: httpx.AsyncClient, *, price: int, capacity: int):
        self.stack = stack
        self.client = client
        self.host = f"host-{uuid.uuid4()}"
        self.user = f"user-{uuid.uuid4()}"
        self.event_id = str(uuid.uuid4())
        self.price = price
        self.capacity = capacity
        self.email = f"made-{uuid.uuid4().hex[:12]}@example.id"

    async def set_up_event(self) -> dict[str, Any]:
        return await create_event(
            self.client,
            self.stack.auth(self.host, ("host",)),
            self.event_id,
            title="Konser Senja di Pantai",
            venue="Pantai Kuta, Bali",
            starts_in=timedelta(days=14),
            price=self.price,
            currency="IDR",
            capacity=self.capacity,
            max_per_user=4,
        )

    async def buy(self) -> dict[str, Any]:
        return await buy_ticket(
            self.client,
            {**self.stack.auth(self.user), "Idempotency-Key": str(uuid.uuid4())},
            self.event_id,
            user_id=self.user,
            name="Made Wirawan",
            email=self.email,
            customer_phone="+6281234567890",
            amount=self.price,
        )

    async def pay(
        self, order_id: str, outcome: str = "settlement", payment_type: str = "bank_transfer"
    ) -> None:
        bank = {"bank": "bca"} if payment_type == "bank_transfer" else {}
        response = await pay_in_sandbox(self.stack, order_id, payment_type, outcome=outcome, **bank)
        assert response.status_code == 200, response.text

    async def ticket(self, ticket_id: str) -> dict[str, Any]:
        response = await self.client.get(
            f"/tickets/{ticket_id}", headers=self.stack.auth(self.user)
        )
        assert response.status_code == 200, response.text
        ticket: dict[str, Any] = response.json()["data"]
        return ticket

    async def wait_for_status(self, ticket_id: str, status: str) -> dict[str, Any]:
        return await ticket_in_status(self.client, ticket_id, self.stack.auth(self.user), status)

    async def event(self) -> dict[str, Any]:
        response = await self.client.get(
            f"/events/{self.event_id}", headers=self.stack.auth(self.user)
        )
        assert response.status_code == 200, response.text
        event: dict[str, Any] = response.json()["data"]
        return event


def _gateway(stack: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=stack.gateway_url, timeout=20)


async def test_a_user_buys_pays_in_the_sandbox_and_sees_the_active_ticket_with_its_event(
    stack: Any,
) -> None:
    async with _gateway(stack) as client:
        scenario = Buyer(stack, client, price=125_000, capacity=2)
        await scenario.set_up_event()

        bought = await scenario.buy()
        assert bought["status"] == "pending"
        assert bought["payment"]["snap_token"] and bought["payment"]["redirect_url"]
        assert (await scenario.event())["held"] == 1

        await scenario.pay(bought["payment"]["order_id"])

        active = await scenario.wait_for_status(bought["id"], "active")
        assert active["qr_url"] == f"/tickets/{bought['id']}/qr"
        mine = await client.get("/tickets/my-tickets", headers=stack.auth(scenario.user))
        assert mine.status_code == 200
        [listed] = mine.json()["data"]
        assert listed["id"] == bought["id"] and listed["status"] == "active"
        assert listed["event"]["title"] == "Konser Senja di Pantai"
        assert listed["event"]["venue"] == "Pantai Kuta, Bali"
        assert listed["event"]["starts_at"]
        event = await scenario.event()
        assert (event["sold"], event["held"], event["available"]) == (1, 0, 1)
        transactions = await client.get("/tickets/transactions", headers=stack.auth(scenario.user))
        [transaction] = transactions.json()["data"]
        assert transaction["status"] == "completed" and transaction["completed_at"]
        assert transaction["payment_method"] == "bank_transfer"

        # ticket.activated carried what the e-ticket needs: it reaches the buyer's inbox.
        async def e_ticket() -> list[dict[str, Any]]:
            return [
                m
                for m in await mails_to(stack, scenario.email)
                if bought["attendance_code"] in (m["text"] or "") + (m["html"] or "")
            ]

        messages = await eventually(e_ticket, "the e-ticket email")
        assert any("Konser Senja di Pantai" in m["subject"] + (m["text"] or "") for m in messages)


async def test_a_purchase_is_one_request_id_in_ticket_service_and_payment_service(
    stack: Any,
) -> None:
    """The gateway's X-Request-ID travels on ticket-service's call to payment-service, so the
    payment that call opened is recorded under the buyer's request, not an id of its own."""
    trace = f"e2e-{uuid.uuid4().hex}"
    async with _gateway(stack) as client:
        scenario = Buyer(stack, client, price=90_000, capacity=1)
        await scenario.set_up_event()
        bought = await buy_ticket(
            client,
            {**stack.auth(scenario.user), "X-Request-ID": trace},
            scenario.event_id,
            name="Made Wirawan",
            email=scenario.email,
            amount=90_000,
        )
    payments = await asyncpg.connect(stack.database_url("payment-service"))
    try:
        opened = await payments.fetch(
            "SELECT correlation_id FROM payment_transitions WHERE order_id = $1",
            bought["payment"]["order_id"],
        )
    finally:
        await payments.close()
    assert [row["correlation_id"] for row in opened] == [trace]


async def test_a_declined_card_keeps_the_hold_and_a_retry_on_the_same_order_activates(
    stack: Any,
) -> None:
    """Issue 10: in Snap a declined card is not the end; the buyer tries again on the same page."""
    async with _gateway(stack) as client:
        scenario = Buyer(stack, client, price=80_000, capacity=1)
        await scenario.set_up_event()
        bought = await scenario.buy()
        order_id = bought["payment"]["order_id"]
        assert (await scenario.event())["available"] == 0

        await scenario.pay(order_id, outcome="deny", payment_type="credit_card")

        async def declined() -> dict[str, Any] | None:
            response = await client.get(
                f"/api/payment/status/{order_id}", headers=stack.auth(scenario.user)
            )
            data: dict[str, Any] = response.json()["data"]
            return data if data["declined"] else None

        view = await eventually(declined, "the declined status")
        assert view["can_retry"] is True and "Try another card" in view["message"]
        assert (await scenario.ticket(bought["id"]))["status"] == "pending"
        event = await scenario.event()
        assert (event["sold"], event["held"], event["available"]) == (0, 1, 0)

        await scenario.pay(order_id, outcome="settlement", payment_type="credit_card")

        active = await scenario.wait_for_status(bought["id"], "active")
        assert active["qr_url"] == f"/tickets/{bought['id']}/qr"
        event = await scenario.event()
        assert (event["sold"], event["held"], event["available"]) == (1, 0, 0)


async def test_an_unpaid_hold_expires_and_the_seat_is_free_again(stack: Any) -> None:
    async with _gateway(stack) as client:
        scenario = Buyer(stack, client, price=80_000, capacity=1)
        await scenario.set_up_event()
        bought = await scenario.buy()
        assert (await scenario.event())["available"] == 0

        # Let the 15 minutes pass for this hold only: its deadline becomes now.
        config = stack.config
        conn = await asyncpg.connect(config.database_url(config.database_name("ticket-service")))
        try:
            await conn.execute(
                "UPDATE tickets SET hold_expires_at = now() WHERE id = $1",
                uuid.UUID(bought["id"]),
            )
        finally:
            await conn.close()

        expired = await scenario.wait_for_status(bought["id"], "expired")
        assert expired["payment"] is None
        event = await scenario.event()
        assert (event["sold"], event["held"], event["available"]) == (0, 0, 1)
        again = Buyer(stack, client, price=80_000, capacity=1)
        again.event_id = scenario.event_id
        assert (await again.buy())["status"] == "pending"  # someone else can buy it now


def _keys(value: Any) -> set[str]:
    """Every key anywhere in a JSON value."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


async def _sent_notifications(stack: Any, order_id: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=stack.sandbox_url, timeout=10) as sandbox:
        response = await sandbox.get("/_sandbox/notifications", params={"order_id": order_id})
    assert response.status_code == 200, response.text
    bodies: list[dict[str, Any]] = [n["body"] for n in response.json()["notifications"]]
    return bodies


async def test_a_copied_pending_signature_cannot_settle_the_payment(stack: Any) -> None:
    async with _gateway(stack) as client:
        scenario = Buyer(stack, client, price=150_000, capacity=5)
        await scenario.set_up_event()
        bought = await scenario.buy()
        order_id = bought["payment"]["order_id"]
        await scenario.pay(order_id, outcome="pending")

        async def pending_notification() -> dict[str, Any] | None:
            sent = await _sent_notifications(stack, order_id)
            return next((b for b in sent if b["transaction_status"] == "pending"), None)

        pending: dict[str, Any] = await eventually(pending_notification, "the pending notice")
        assert pending["status_code"] == "201"

        status = await client.get(
            f"/api/payment/status/{order_id}", headers=stack.auth(scenario.user)
        )
        assert status.status_code == 200, status.text
        assert "signature_key" not in _keys(status.json()), "the signature reached the client"

        forged = {**pending, "transaction_status": "settlement"}
        answer = await client.post("/api/payment/notification", json=forged)
        assert answer.status_code in (400, 403), answer.text
        assert answer.json()["error"]["code"]

        # The same lie with a matching status code no longer carries a valid signature.
        forged_200 = {**forged, "status_code": "200"}
        answer = await client.post("/api/payment/notification", json=forged_200)
        assert answer.status_code == 403, answer.text

        await asyncio.sleep(1.0)  # time enough for a payment.settled to reach ticket-service
        ticket = await scenario.ticket(bought["id"])
        assert ticket["status"] == "pending"
        status = await client.get(
            f"/api/payment/status/{order_id}", headers=stack.auth(scenario.user)
        )
        assert status.json()["data"]["status"] != "settled", status.text


async def _expire_unpaid(stack: Any, scenario: Buyer, bought: dict[str, Any]) -> None:
    """The hold ends while the buyer is still on the Snap page (no method picked yet)."""
    order_id = bought["payment"]["order_id"]
    payments = await asyncpg.connect(stack.database_url("payment-service"))
    tickets = await asyncpg.connect(stack.database_url("ticket-service"))
    try:
        # payment-service may close it at once (normally: the hold plus UNPAID_GRACE_SECONDS).
        await payments.execute(
            "UPDATE payments SET expires_at = now() - interval '1 hour' WHERE order_id = $1",
            order_id,
        )
        await tickets.execute(
            "UPDATE tickets SET hold_expires_at = now() WHERE id = $1", uuid.UUID(bought["id"])
        )
        await scenario.wait_for_status(bought["id"], "expired")

        async def payment_expired() -> bool:
            status = await payments.fetchval(
                "SELECT status FROM payments WHERE order_id = $1", order_id
            )
            return bool(status == "expired")

        await eventually(payment_expired, "the payment expired")
    finally:
        await payments.close()
        await tickets.close()


async def test_money_after_the_hold_expired_takes_the_free_seat_back(stack: Any) -> None:
    """Issue 10: late money is no longer only flagged; a free seat goes to the late buyer."""
    async with _gateway(stack) as client:
        scenario = Buyer(stack, client, price=90_000, capacity=1)
        await scenario.set_up_event()
        bought = await scenario.buy()
        await _expire_unpaid(stack, scenario, bought)
        assert (await scenario.event())["available"] == 1

        await scenario.pay(bought["payment"]["order_id"], payment_type="gopay")

        await scenario.wait_for_status(bought["id"], "active")
        event = await scenario.event()
        assert (event["sold"], event["held"], event["available"]) == (1, 0, 0)


async def test_money_after_the_hold_expired_and_the_seat_was_sold_is_refunded(
    stack: Any,
) -> None:
    async with _gateway(stack) as client:
        scenario = Buyer(stack, client, price=90_000, capacity=1)
        await scenario.set_up_event()
        bought = await scenario.buy()
        order_id = bought["payment"]["order_id"]
        await _expire_unpaid(stack, scenario, bought)
        other = Buyer(stack, client, price=90_000, capacity=1)
        other.event_id = scenario.event_id
        theirs = await other.buy()
        await other.pay(theirs["payment"]["order_id"])
        await other.wait_for_status(theirs["id"], "active")

        await scenario.pay(order_id, payment_type="gopay")  # the first buyer pays late

        cancelled = await scenario.wait_for_status(bought["id"], "cancelled")
        assert cancelled["qr_url"] is None

        async def refunded() -> dict[str, Any] | None:
            response = await client.get(
                f"/api/payment/status/{order_id}", headers=stack.auth(scenario.user)
            )
            data: dict[str, Any] = response.json()["data"]
            return data if data["status"] == "refunded" else None

        payment = await eventually(refunded, "the late money refunded")
        assert payment["refunded_amount"] == 90_000
        event = await scenario.event()
        assert (event["sold"], event["available"]) == (1, 0)


async def test_a_cancelled_va_ticket_is_refunded_by_payout_the_buyer_follows_on_the_ticket(
    stack: Any,
) -> None:
    """VA money cannot go back by API: the refund becomes a payout an admin closes by hand."""
    admin = stack.auth(f"admin-{uuid.uuid4()}", ("admin",))
    async with _gateway(stack) as client:
        scenario = Buyer(stack, client, price=75_000, capacity=3)
        await scenario.set_up_event()
        bought = await scenario.buy()
        await scenario.pay(bought["payment"]["order_id"])  # bank transfer (BCA VA)
        await scenario.wait_for_status(bought["id"], "active")
        cancel = await client.post(
            f"/tickets/{bought['id']}/cancel",
            json={"reason": "cannot come"},
            headers=stack.auth(scenario.user),
        )
        assert cancel.status_code == 200, cancel.text

        async def awaiting_payout() -> dict[str, Any] | None:
            refund: dict[str, Any] | None = (await scenario.ticket(bought["id"]))["refund"]
            return refund if refund and refund["status"] == "awaiting_payout" else None

        refund = await eventually(awaiting_payout, "the payout refund on the ticket")
        assert (refund["method"], refund["amount"]) == ("payout", 75_000)
        given = await client.post(
            f"/api/payment/refunds/{refund['id']}/bank-account",
            json={"bank_code": "bca", "account_number": "1234567890", "holder_name": "Made W"},
            headers=stack.auth(scenario.user),
        )
        assert given.status_code == 200, given.text
        listed = await client.get("/api/payment/refunds?status=awaiting_payout", headers=admin)
        assert refund["id"] in [r["refund_id"] for r in listed.json()["data"]]
        done = await client.post(
            f"/api/payment/refunds/{refund['id']}/payout",
            json={"reference": "BCA-TRF-20261205-0042"},
            headers=admin,
        )
        assert done.status_code == 200, done.text

        refunded = await scenario.wait_for_status(bought["id"], "refunded")
        assert refunded["refund"]["status"] == "paid_out"
        assert refunded["refund"]["reference"] == "BCA-TRF-20261205-0042"
