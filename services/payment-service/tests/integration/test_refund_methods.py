"""Refunds per method, end to end: API refunds that wait for Midtrans' final word, a captured
card cancelled, payouts for methods Midtrans cannot refund, and what the reconciler finds.

The notification of an order is lost when the order was opened by a replica whose
MIDTRANS_NOTIFICATION_URL goes nowhere (Snap keeps that URL for the order); `forward` then
plays Midtrans' notification by posting the sandbox's own signed status answer.
"""

import asyncio
import time
import uuid
from datetime import UTC, datetime

import pytest
from servicekit.testing import free_port
from ticketing_contracts import TicketExpired, TicketRefundRequested

REFUNDED, UPDATED, FAILED = "payment.refunded", "payment.refund_updated", "payment.failed"
SETTLED = "payment.settled"


def ticket_facts(order_id: str, user_id: str = "user-42") -> dict:
    return {
        "ticket_id": f"ticket-{order_id}",
        "event_id": "event-1",
        "user_id": user_id,
        "order_id": order_id,
        "attendance_code": "K7P3",
        "holder_name": "Siti Rahma",
        "holder_email": "siti@example.id",
        "event_title": "Jakarta Jazz Night",
        "event_starts_at": "2026-12-20T19:00:00+07:00",
    }


@pytest.fixture(scope="module")
async def lossy(stack):
    """A replica that only opens orders: their notifications go to a port nobody listens on."""
    process, url = await stack.replica(
        "refund-lossy", MIDTRANS_NOTIFICATION_URL=f"http://127.0.0.1:{free_port()}/lost"
    )
    yield url
    process.stop()


async def forward(stack, order_id: str) -> None:
    """Deliver what Midtrans says now as its notification (signed like one)."""
    body = (await stack.core("GET", f"/v2/{order_id}/status")).json()
    answer = await stack.notify(body)
    assert answer.status_code == 200, answer.text


async def settled_quietly(stack, lossy_url: str, payment_type: str) -> str:
    order_id = await stack.opened(service_url=lossy_url)
    await stack.pay(order_id, payment_type, "settlement")
    await forward(stack, order_id)
    await stack.wait_status(order_id, "settled")
    return order_id


async def settled(stack, payment_type: str, user_id: str = "user-42", **extra: str) -> str:
    order_id = await stack.opened(user_id=user_id)
    await stack.pay(order_id, payment_type, "settlement", **extra)
    await stack.wait_status(order_id, "settled")
    return order_id


async def admin_refund(stack, order_id: str, body: dict):
    return await stack.http.post(
        f"{stack.service_url}/api/payment/admin/orders/{order_id}/refund",
        json=body,
        headers=stack.token("admin-1", "admin"),
    )


async def refund_rows(stack, order_id: str) -> list[tuple[str, str, int]]:
    rows = await stack.db.fetch(
        "SELECT method, status, amount FROM refunds WHERE order_id = $1 ORDER BY created_at",
        order_id,
    )
    return [(r["method"], r["status"], r["amount"]) for r in rows]


def updates(stack, order_id: str) -> list[tuple[str, str]]:
    return [
        (e["payload"]["method"], e["payload"]["refund_status"])
        for e in stack.tap.of(order_id, UPDATED)
    ]


async def wait_refund_status(stack, order_id: str, status: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if [s for _, s, _ in await refund_rows(stack, order_id)][-1:] == [status]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(
        f"refund of {order_id} never {status}: {await refund_rows(stack, order_id)}"
    )


async def test_a_card_refund_stays_pending_until_its_final_notification(stack, lossy) -> None:
    order_id = await settled_quietly(stack, lossy, "credit_card")
    response = await admin_refund(stack, order_id, {"reason": "event moved", "request_id": "r1"})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["method"], data["status"], data["amount"]) == ("api", "pending", 150_000)
    # Midtrans accepted the refund, but its notification has not come: nothing is final yet.
    await asyncio.sleep(0.3)
    assert await stack.status_of(order_id) == "settled"
    assert await refund_rows(stack, order_id) == [("api", "pending", 150_000)]
    assert stack.tap.of(order_id, REFUNDED) == []

    await forward(stack, order_id)  # the final refund notification
    await stack.wait_status(order_id, "refunded")
    await wait_refund_status(stack, order_id, "succeeded")
    await stack.wait_events(order_id, UPDATED, count=3)
    assert updates(stack, order_id) == [
        ("api", "requested"),
        ("api", "pending"),
        ("api", "succeeded"),
    ]
    events = await stack.wait_events(order_id, REFUNDED)
    assert len(events) == 1
    sequences = [e["payload"]["sequence"] for e in stack.tap.of(order_id, UPDATED)]
    assert sequences == sorted(set(sequences))
    # The buyer sees it, with its state.
    mine = await stack.http.get(
        f"{stack.service_url}/api/payment/refunds/{data['refund_id']}",
        headers=stack.token("user-42"),
    )
    assert mine.status_code == 200, mine.text
    assert mine.json()["data"]["status"] == "succeeded"


async def test_a_lost_final_refund_notification_is_found_by_the_reconciler(stack, lossy) -> None:
    order_id = await settled_quietly(stack, lossy, "gopay")
    response = await admin_refund(stack, order_id, {"reason": "sold out", "amount": 50_000})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["status"] == "pending"
    # RECONCILE_PENDING_AFTER_SECONDS=2: a refund waiting for Midtrans is asked about.
    await wait_refund_status(stack, order_id, "succeeded", timeout=15)
    assert await stack.status_of(order_id) == "partially_refunded"
    events = await stack.wait_events(order_id, REFUNDED)
    assert [(e["payload"]["refund_amount"], e["payload"]["refunded_total"]) for e in events] == [
        (50_000, 50_000)
    ]


async def test_partial_refunds_where_the_method_allows_and_not_where_it_does_not(stack) -> None:
    card = await settled(stack, "credit_card")
    part = await admin_refund(stack, card, {"reason": "seat downgrade", "amount": 40_000})
    assert part.status_code == 200, part.text
    await stack.wait_status(card, "partially_refunded")
    await wait_refund_status(stack, card, "succeeded")

    # DANA (not playable in the sandbox): refunded in full by API only.
    dana = stack.new_order_id()
    await stack.db.execute(
        """INSERT INTO payments (order_id, amount, user_id, ticket_id, event_id, customer, items,
                  metadata, expires_at, status, payment_type, settled_at)
           VALUES ($1, 150000, 'user-42', $2, 'event-1', '{"name": "Siti", "email": "s@x.id"}',
                   '[]', '{}', now(), 'settled', 'dana', now())""",
        dana,
        f"ticket-{dana}",
    )
    refused = await admin_refund(stack, dana, {"reason": "seat downgrade", "amount": 40_000})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "partial_refund_not_supported"
    assert await refund_rows(stack, dana) == []
    # ticket-service's partial refund must still give the money back: as a payout.
    await stack.publish(
        TicketRefundRequested(**ticket_facts(dana), amount=40_000, reason="partial")
    )
    await wait_refund_status(stack, dana, "awaiting_payout")
    assert await refund_rows(stack, dana) == [("payout", "awaiting_payout", 40_000)]


async def test_a_captured_card_is_cancelled_not_refunded(stack) -> None:
    order_id = await stack.opened()
    await stack.pay(order_id, "credit_card", "capture")
    await stack.wait_status(order_id, "captured")
    partial = await admin_refund(stack, order_id, {"reason": "x", "amount": 10_000})
    assert partial.status_code == 409
    assert partial.json()["error"]["code"] == "partial_refund_not_supported"
    await stack.publish(TicketRefundRequested(**ticket_facts(order_id), amount=150_000, reason="x"))
    await wait_refund_status(stack, order_id, "succeeded")
    await stack.wait_status(order_id, "cancelled")
    status = (await stack.core("GET", f"/v2/{order_id}/status")).json()
    assert status["transaction_status"] == "cancel"
    assert status.get("refunds", []) == []
    assert len(await stack.wait_events(order_id, FAILED)) == 1
    await stack.wait_events(order_id, UPDATED, count=2)
    assert updates(stack, order_id) == [("api", "requested"), ("api", "succeeded")]
    calls = await stack.db.fetch(
        "SELECT operation FROM gateway_calls WHERE order_id = $1 AND source = 'refund'", order_id
    )
    assert [c["operation"] for c in calls] == ["core.cancel"]


async def test_a_va_refund_is_a_payout_the_buyer_and_an_admin_finish(stack) -> None:
    user = f"user-{uuid.uuid4().hex[:8]}"
    order_id = await settled(stack, "bank_transfer", user_id=user, bank="bca")
    await stack.publish(
        TicketRefundRequested(**ticket_facts(order_id, user), amount=150_000, reason="sold_out")
    )
    await wait_refund_status(stack, order_id, "awaiting_payout")
    assert (await stack.core("GET", f"/v2/{order_id}/status")).json().get("refunds") is None
    buyer, other, admin = stack.token(user), stack.token("user-7"), stack.token("a", "admin")
    base = f"{stack.service_url}/api/payment/refunds"
    listed = await stack.http.get(base, params={"order_id": order_id}, headers=buyer)
    assert listed.status_code == 200, listed.text
    [refund] = listed.json()["data"]
    refund_id = refund["refund_id"]
    assert (refund["method"], refund["status"], refund["amount"]) == (
        "payout",
        "awaiting_payout",
        150_000,
    )
    assert (await stack.http.get(f"{base}/{refund_id}", headers=other)).status_code == 404
    assert (await stack.http.get(base, params={"order_id": order_id}, headers=other)).json()[
        "data"
    ] == []

    early = await stack.http.post(
        f"{base}/{refund_id}/payout", json={"reference": "T1"}, headers=admin
    )
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "payout_conflict"
    account = {"bank_code": "BCA", "account_number": "1234 5678 90", "holder_name": "Siti Rahma"}
    bad = await stack.http.post(
        f"{base}/{refund_id}/bank-account",
        json={**account, "account_number": "12ab"},
        headers=buyer,
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "validation_error"
    not_theirs = await stack.http.post(
        f"{base}/{refund_id}/bank-account", json=account, headers=other
    )
    assert not_theirs.status_code == 404
    given = await stack.http.post(f"{base}/{refund_id}/bank-account", json=account, headers=buyer)
    assert given.status_code == 200, given.text
    assert given.json()["data"]["bank_account"] == {
        "bank_code": "bca",
        "account_number": "******7890",
        "holder_name": "Siti Rahma",
    }

    # The admins' list of what to pay out, page by page.
    found, cursor = None, None
    for _ in range(200):
        page = await stack.http.get(
            base,
            params={
                "status": "awaiting_payout",
                "limit": 2,
                **({"cursor": cursor} if cursor else {}),
            },
            headers=admin,
        )
        assert page.status_code == 200, page.text
        body = page.json()
        assert all(r["status"] == "awaiting_payout" for r in body["data"])
        found = next((r for r in body["data"] if r["refund_id"] == refund_id), None)
        cursor = body["next_cursor"]
        if found or cursor is None:
            break
    assert found is not None
    assert found["bank_account"]["account_number"] == "1234567890"
    assert (await stack.http.get(base, params={"status": "awaiting_payout"}, headers=buyer)).json()[
        "data"
    ] == [found | {"bank_account": given.json()["data"]["bank_account"], "last_error": None}]
    forbidden = await stack.http.post(
        f"{base}/{refund_id}/payout", json={"reference": "T1"}, headers=buyer
    )
    assert forbidden.status_code == 403

    # Two admins record the same transfer at once: one payout, one event.
    done = await asyncio.gather(
        *(
            stack.http.post(
                f"{base}/{refund_id}/payout", json={"reference": "BCA-TRF-0001"}, headers=admin
            )
            for _ in range(2)
        )
    )
    assert [d.status_code for d in done] == [200, 200], [d.text for d in done]
    assert done[0].json()["data"]["status"] == "paid_out"
    assert done[0].json()["data"]["payout_reference"] == "BCA-TRF-0001"
    other_ref = await stack.http.post(
        f"{base}/{refund_id}/payout", json={"reference": "X"}, headers=admin
    )
    assert other_ref.status_code == 409
    events = await stack.wait_events(order_id, UPDATED, count=2)
    await asyncio.sleep(0.3)
    assert updates(stack, order_id) == [("payout", "awaiting_payout"), ("payout", "paid_out")]
    assert events[-1]["payload"]["reference"] == "BCA-TRF-0001"
    assert events[-1]["payload"]["payment_status"] == "settled"
    assert await stack.status_of(order_id) == "settled"


async def test_the_refund_job_calls_midtrans_without_the_payments_lock(stack) -> None:
    order_id = await settled(stack, "shopeepay")
    async with stack.db.acquire() as holder, holder.transaction():
        # Hold the payment's row as an update would (FOR NO KEY UPDATE still lets the refund
        # row reference it), then record a refund the job will pick up.
        await holder.fetchval(
            "SELECT 1 FROM payments WHERE order_id = $1 FOR NO KEY UPDATE", order_id
        )
        await stack.db.execute(
            """INSERT INTO refunds (refund_key, order_id, amount, reason, source, method, status)
               VALUES ($1, $2, 150000, 'sold out', 'admin', 'api', 'requested')""",
            f"{order_id}-lockfree",
            order_id,
        )
        deadline = time.monotonic() + 10
        refunds: list = []
        while not refunds and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            status = (await stack.core("GET", f"/v2/{order_id}/status")).json()
            refunds = status.get("refunds", [])
        # Midtrans got the refund while we still hold the payment's row.
        assert [r["refund_key"] for r in refunds] == [f"{order_id}-lockfree"]
        assert await refund_rows(stack, order_id) == [("api", "requested", 150_000)]
    await wait_refund_status(stack, order_id, "succeeded")
    await stack.wait_status(order_id, "refunded")


async def dashboard(stack, order_id: str, action: str, **extra: object) -> None:
    response = await stack.http.post(
        f"{stack.sandbox_url}/_sandbox/orders/{order_id}/dashboard",
        json={"action": action, **extra},
    )
    assert response.status_code == 200, response.text


async def test_a_dashboard_refund_is_found_by_the_reconciler_once_across_replicas(stack) -> None:
    order_id = await settled(stack, "qris")
    checkers = [
        await stack.replica(
            f"paid-checker-{i}",
            RECONCILE_PAID_INTERVAL_SECONDS="0.2",
            RECONCILE_PAID_AFTER_SECONDS="0.5",
            RECONCILE_BATCH_SIZE="1000",  # every settled payment of the whole suite is checked
        )
        for i in range(2)
    ]
    try:
        # Refunded in the Midtrans dashboard, and no notification comes.
        await dashboard(stack, order_id, "refund", notify=False)
        await stack.wait_status(order_id, "refunded", timeout=30)
        await wait_refund_status(stack, order_id, "succeeded")
        await asyncio.sleep(1.5)  # both replicas keep checking; nothing more may happen
    finally:
        for process, _ in checkers:
            process.stop()
    rows = await stack.db.fetch(
        "SELECT source, method, status, amount FROM refunds WHERE order_id = $1", order_id
    )
    assert [tuple(r) for r in rows] == [("midtrans", "api", "succeeded", 150_000)]
    applied = await stack.db.fetch(
        """SELECT source, events FROM payment_transitions
           WHERE order_id = $1 AND verdict = 'applied' AND to_status = 'refunded'""",
        order_id,
    )
    assert [(r["source"], r["events"]) for r in applied] == [("reconciler", ["payment.refunded"])]
    assert len(stack.tap.of(order_id, REFUNDED)) == 1
    assert updates(stack, order_id) == [("api", "succeeded")]


async def test_paid_reconciler_claims_never_overlap(stack) -> None:
    from payment_service.adapters import repository as repo

    async def claim() -> list[str]:
        async with stack.db.acquire() as conn:
            return await repo.claim_paid_for_reconciliation(
                conn, every_seconds=86400, refunds_every_seconds=86400, limit=7
            )

    # The service's own job (every 0.5 s here) may take some of the rows, and now and then all
    # of them before the claims below start: then the race is run again on new rows.
    for _ in range(5):
        ids = [stack.new_order_id() for _ in range(30)]
        await stack.db.execute(
            """INSERT INTO payments (order_id, amount, user_id, ticket_id, event_id, customer,
                      items, metadata, expires_at, status, updated_at)
               SELECT id, 1000, 'u', 't', 'e', '{}', '[]',
                      '{"event_starts_at": "2099-01-01T19:00:00+07:00"}', now(), 'settled',
                      now() - interval '10 days'
                 FROM unnest($1::text[]) AS id""",
            ids,
        )
        claims = await asyncio.gather(*(claim() for _ in range(8)))
        claimed = [order_id for batch in claims for order_id in batch if order_id in ids]
        await stack.db.execute(
            "UPDATE payments SET status = 'refunded' WHERE order_id = ANY($1)", ids
        )
        assert len(claimed) == len(set(claimed))
        if claimed:
            break
    assert claimed


async def test_refund_endpoints_need_a_token_and_a_known_id(stack) -> None:
    base = f"{stack.service_url}/api/payment/refunds"
    assert (await stack.http.get(f"{base}/{uuid.uuid4()}")).status_code == 401
    missing = await stack.http.get(f"{base}/not-a-uuid", headers=stack.token("user-42"))
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    bad = await stack.http.get(base, params={"status": "nope"}, headers=stack.token("a", "admin"))
    assert bad.status_code == 422


async def test_a_notified_dashboard_refund_shows_as_a_refund_of_the_payment(stack) -> None:
    order_id = await settled(stack, "gopay")
    await dashboard(stack, order_id, "partial_refund", amount=30_000)
    await stack.wait_status(order_id, "partially_refunded")
    await wait_refund_status(stack, order_id, "succeeded")
    assert await refund_rows(stack, order_id) == [("api", "succeeded", 30_000)]
    await stack.wait_events(order_id, UPDATED)
    assert updates(stack, order_id) == [("api", "succeeded")]
    # What is left can still be refunded by us; the dashboard's part is not refunded twice.
    rest = await admin_refund(stack, order_id, {"reason": "rest"})
    assert rest.status_code == 200, rest.text
    assert rest.json()["data"]["amount"] == 120_000
    await stack.wait_status(order_id, "refunded")
    await wait_refund_status(stack, order_id, "succeeded")
    assert [a for _, _, a in await refund_rows(stack, order_id)] == [30_000, 120_000]


async def test_a_reversal_without_notification_is_found_by_the_reconciler(stack) -> None:
    order_id = await settled(stack, "bank_transfer", bank="permata")
    checker, _ = await stack.replica(
        "reversal-checker",
        RECONCILE_PAID_INTERVAL_SECONDS="0.2",
        RECONCILE_PAID_AFTER_SECONDS="0.5",
        RECONCILE_BATCH_SIZE="1000",
    )
    try:
        await dashboard(stack, order_id, "reverse", notify=False)
        await stack.wait_status(order_id, "reversed", timeout=30)
    finally:
        checker.stop()
    [failed] = await stack.wait_events(order_id, FAILED)
    assert failed["payload"]["reason"].startswith("reversed after payment")


@pytest.mark.parametrize(
    ("payment_type", "extra", "ends"),
    [
        ("gopay", {}, ("api", "succeeded")),
        ("bank_transfer", {"bank": "bni"}, ("payout", "awaiting_payout")),
    ],
)
async def test_late_money_without_a_free_seat_ends_with_the_money_back(
    stack, payment_type, extra, ends
) -> None:
    # The payment side of "settlement after expire": the payment is paid (payment.settled went
    # out); ticket-service found the seat taken and asks for the refund.
    order_id = await settled(stack, payment_type, **extra)
    await stack.publish(
        TicketRefundRequested(
            **ticket_facts(order_id), amount=150_000, reason="late_payment_seat_taken"
        )
    )
    await wait_refund_status(stack, order_id, ends[1], timeout=20)
    assert await refund_rows(stack, order_id) == [(*ends, 150_000)]
    if ends[0] == "api":
        await stack.wait_status(order_id, "refunded")
    await stack.wait_events(order_id, UPDATED, count=2 if ends[0] == "api" else 1)
    assert updates(stack, order_id)[-1][0] == ends[0]


async def test_late_money_with_a_free_seat_keeps_the_payment(stack) -> None:
    # ticket-service gave the seat back: no refund is asked for, so none is made.
    order_id = await settled(stack, "gopay")
    await asyncio.sleep(1.0)
    assert await refund_rows(stack, order_id) == []
    assert await stack.status_of(order_id) == "settled"
    assert stack.tap.of(order_id, UPDATED) == []


@pytest.mark.parametrize(
    ("payment_type", "extra", "seat", "ends"),
    [
        ("gopay", {}, "taken", ("api", "succeeded", "refunded")),
        ("bank_transfer", {"bank": "bni"}, "taken", ("payout", "awaiting_payout", "settled")),
        ("gopay", {}, "free", None),
    ],
)
async def test_a_hold_that_expired_then_money_the_real_way(
    stack, payment_type, extra, seat, ends
) -> None:
    """Hold over -> ticket.expired -> expired (payment.failed) -> the buyer pays -> late money.

    The sandbox refuses to pay a transaction it expired (409, like Midtrans), so the money can
    only arrive after *our* expiry: the buyer never picked a method before the hold ended (so
    Midtrans had nothing to expire) and paid on the Snap page at its last moment. Our hold's end
    is moved into the past in the database; the sandbox's session still runs.
    """
    order_id = await stack.opened()
    await stack.db.execute(
        """UPDATE payments SET expires_at = now() - interval '10 seconds' WHERE order_id = $1""",
        order_id,
    )
    # ticket-service's hold ended: ticket.expired closes the payment (Midtrans: 404, nothing
    # picked; past the hold and the grace it is expired here).
    await stack.publish(TicketExpired(**ticket_facts(order_id), expired_at=datetime.now(UTC)))
    await stack.wait_status(order_id, "expired")
    await stack.wait_events(order_id, FAILED)
    # The money arrives after all.
    await stack.pay(order_id, payment_type, "settlement", **extra)
    await stack.wait_status(order_id, "settled")
    settled = (await stack.wait_events(order_id, SETTLED))[0]["payload"]
    failed = stack.tap.of(order_id, FAILED)[0]["payload"]
    assert settled["sequence"] > failed["sequence"]
    reason = await stack.db.fetchval(
        """SELECT reason FROM payment_transitions
           WHERE order_id = $1 AND from_status = 'expired' AND to_status = 'settled'""",
        order_id,
    )
    assert reason.startswith("late money: settlement after expired")
    if ends is None:
        # ticket-service gave the free seat back (ticket active): nothing is refunded.
        await asyncio.sleep(1.0)
        assert await refund_rows(stack, order_id) == []
        assert await stack.status_of(order_id) == "settled"
        return
    # The seat was sold meanwhile: ticket-service asks for the money back.
    await stack.publish(
        TicketRefundRequested(
            **ticket_facts(order_id), amount=150_000, reason="late_payment_seat_taken"
        )
    )
    method, refund_status, payment_status = ends
    await wait_refund_status(stack, order_id, refund_status, timeout=20)
    assert await refund_rows(stack, order_id) == [(method, refund_status, 150_000)]
    await stack.wait_status(order_id, payment_status)
    await stack.wait_events(order_id, UPDATED, count=2 if method == "api" else 1)
    # One gap-free sequence over the whole story.
    await asyncio.sleep(0.3)
    unique = {m["event_id"]: m for m in stack.tap.of(order_id)}.values()
    story = sorted(unique, key=lambda m: m["payload"]["sequence"])
    last = (await stack.payment(order_id))["event_sequence"]
    assert [m["payload"]["sequence"] for m in story] == list(range(1, last + 1))
    kinds = [m["event_type"] for m in story]
    assert kinds[:2] == [FAILED, SETTLED]
    assert kinds.count(REFUNDED) == (1 if method == "api" else 0)


async def test_the_reconciler_finds_a_retry_paid_after_a_declined_card(stack) -> None:
    # A declined card, then the buyer retries on the same Snap page (a new Midtrans
    # transaction of the same order) and pays; that settlement's notification is lost.
    order_id = await stack.opened()
    await stack.pay(order_id, "credit_card", "deny")
    await stack.wait_status(order_id, "denied")
    declined = (await stack.payment(order_id))["transaction_id"]
    paid = await stack.pay(order_id, "credit_card", "settlement", notify=False)
    assert paid["transaction"]["transaction_id"] != declined
    # The reconciler asks Midtrans by order_id (the declined attempt's id would say deny).
    await stack.wait_status(order_id, "settled", timeout=20)
    payment = await stack.payment(order_id)
    assert payment["transaction_id"] == paid["transaction"]["transaction_id"]
    source = await stack.db.fetchval(
        """SELECT source FROM payment_transitions
           WHERE order_id = $1 AND to_status = 'settled' AND verdict = 'applied'""",
        order_id,
    )
    assert source == "reconciler"
    assert len(await stack.wait_events(order_id, SETTLED)) == 1


async def test_the_status_endpoint_lists_the_orders_refunds(stack) -> None:
    order_id = await settled(stack, "bank_transfer", bank="bni")
    refund = await admin_refund(stack, order_id, {"reason": "event cancelled"})
    assert refund.status_code == 200, refund.text
    refund_id = refund.json()["data"]["refund_id"]
    status = await stack.http.get(
        f"{stack.service_url}/api/payment/status/{order_id}", headers=stack.token("user-42")
    )
    assert status.status_code == 200, status.text
    assert status.json()["data"]["refunds"] == [
        {
            "refund_id": refund_id,
            "amount": 150_000,
            "method": "payout",
            "status": "awaiting_payout",
            "reference": None,
        }
    ]
    done = await stack.http.post(
        f"{stack.service_url}/api/payment/refunds/{refund_id}/bank-account",
        json={"bank_code": "bni", "account_number": "1234567890", "holder_name": "Siti Rahma"},
        headers=stack.token("user-42"),
    )
    assert done.status_code == 200, done.text
    out = await stack.http.post(
        f"{stack.service_url}/api/payment/refunds/{refund_id}/payout",
        json={"reference": "BNI-TRF-7"},
        headers=stack.token("admin-1", "admin"),
    )
    assert out.status_code == 200, out.text
    later = await stack.http.get(
        f"{stack.service_url}/api/payment/status/{order_id}",
        headers=stack.token("admin-1", "admin"),
    )
    [shown] = later.json()["data"]["refunds"]
    assert (shown["status"], shown["reference"]) == ("paid_out", "BNI-TRF-7")
    # Someone else's order stays 404, refunds and all.
    other = await stack.http.get(
        f"{stack.service_url}/api/payment/status/{order_id}", headers=stack.token("user-7")
    )
    assert other.status_code == 404
