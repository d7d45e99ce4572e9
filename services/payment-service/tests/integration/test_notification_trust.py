"""Issue 10 for real: each attack on the notification path fails to do harm, each edge is closed.

PostgreSQL, RabbitMQ, Redis, the sandbox and the service run as real processes; notifications
are delivered by the sandbox or forged by hand (the test knows the server key, like a thief).
"""

import asyncio
import itertools
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from payment_service.adapters import repository
from payment_service.domain.model import PaymentState, PaymentStatus
from payment_service.service_layer.notifications import AGREES
from servicekit.testing import ServiceProcess, free_port

SETTLED, PENDING, FAILED, DECLINED = (
    "payment.settled",
    "payment.pending",
    "payment.failed",
    "payment.declined",
)
# The payment's own life; refund events (payment.refund_updated) share its sequence counter.
LIFECYCLE = {SETTLED, PENDING, FAILED, DECLINED, "payment.refunded"}


async def published(stack, order_id: str) -> list[dict[str, Any]]:
    """Every distinct event of the order, by sequence, once all numbers reached the broker."""
    for _ in range(200):
        last = (await stack.payment(order_id))["event_sequence"]
        unique = {m["event_id"]: m for m in stack.tap.of(order_id)}.values()
        ordered = sorted(unique, key=lambda m: m["payload"]["sequence"])
        if len(ordered) >= last:
            assert [m["payload"]["sequence"] for m in ordered] == list(range(1, last + 1))
            return ordered
        await asyncio.sleep(0.05)
    raise AssertionError(f"not every event of {order_id} reached the broker")


def life_of(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in messages if m["event_type"] in LIFECYCLE]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def dev_replica(stack) -> AsyncIterator[str]:
    """APP_ENV=development with the status-API confirmation off: notifications applied as sent."""
    process, url = await stack.replica(
        "development", APP_ENV="development", MIDTRANS_VERIFY_WITH_STATUS_API="false"
    )
    try:
        yield url
    finally:
        process.stop()


async def latest_notification(stack, order_id: str) -> Any:
    return await stack.db.fetchrow(
        "SELECT * FROM notifications WHERE order_id = $1 ORDER BY id DESC LIMIT 1", order_id
    )


async def sent_by_sandbox(stack, order_id: str, status: str) -> dict[str, Any]:
    log = await stack.sandbox_notifications(order_id)
    bodies = [n["body"] for n in log["notifications"] if n["body"]["transaction_status"] == status]
    assert bodies, f"the sandbox sent no {status} for {order_id}"
    return dict(bodies[-1])


async def status_view(stack, order_id: str, user: str = "user-42") -> dict[str, Any]:
    response = await stack.http.get(
        f"{stack.service_url}/api/payment/status/{order_id}", headers=stack.token(user)
    )
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


# ----- 1. the signature is never a bearer credential -----


async def test_the_issue_s_attack_a_copied_pending_signature_cannot_settle(stack) -> None:
    order_id = await stack.opened()
    await stack.pay(order_id, "bank_transfer", "pending", bank="bca")
    await stack.wait_status(order_id, "pending")
    view = await status_view(stack, order_id)
    # The status endpoint no longer hands out Midtrans' signature (nor its ids).
    assert view["midtrans"]["transaction_status"] == "pending"
    for hidden in ("signature_key", "merchant_id", "transaction_id", "status_code"):
        assert hidden not in view["midtrans"]
    # The signature leaks anyway (here: Midtrans' own pending notification) and is replayed
    # on the issue's body: the same fields with "transaction_status": "settlement".
    pending = await sent_by_sandbox(stack, order_id, "pending")
    forged = {**pending, "transaction_status": "settlement"}
    response = await stack.notify(forged)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "inconsistent_notification"
    assert await stack.status_of(order_id) == "pending"
    audit = await latest_notification(stack, order_id)
    assert (audit["verdict"], audit["signature_valid"]) == ("inconsistent", True)
    assert (await stack.payment(order_id))["flagged_at"] is not None
    # Signed again with status_code 200 (a thief with the key): the status API says pending.
    signed = stack.sign({**forged, "status_code": "200"})
    response = await stack.notify(signed)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["verdict"] == "duplicate"
    assert await stack.status_of(order_id) == "pending"
    await asyncio.sleep(0.3)
    assert stack.tap.of(order_id, SETTLED) == []


async def test_a_repeated_settlement_is_a_duplicate_that_does_not_ask_midtrans(stack) -> None:
    """The same notification again (Midtrans' retry, a late copy) claims what the payment already
    is: audited as a duplicate without a status call. The proof: a fault queued on the sandbox's
    next status answer is still queued after it, and the next claim of something new meets it."""
    order_id = await stack.opened()
    await stack.pay(order_id, "gopay", "settlement")
    await stack.wait_status(order_id, "settled")
    settlement = await sent_by_sandbox(stack, order_id, "settlement")
    faults = f"{stack.sandbox_url}/_sandbox/faults"
    queued = await stack.http.post(f"{faults}/api", json={"api": "core", "status": 503})
    assert queued.status_code == 200, queued.text

    response = await stack.notify(settlement)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["verdict"] == "duplicate"
    assert len((await stack.http.get(faults)).json()["api"]["core"]) == 1  # not asked
    audit = await latest_notification(stack, order_id)
    assert (audit["verdict"], audit["detail"]) == ("duplicate", AGREES)
    transition = await stack.db.fetchrow(
        "SELECT * FROM payment_transitions WHERE notification_id = $1", audit["id"]
    )
    assert (transition["from_status"], transition["to_status"]) == ("settled", "settled")
    assert (transition["verdict"], transition["gateway_body"]) == ("duplicate", None)

    # A claim of something new is asked about: it meets the fault (the client retries the 503).
    response = await stack.notify({**settlement, "transaction_status": "refund"})
    assert response.status_code == 200, response.text
    assert (await stack.http.get(faults)).json()["api"]["core"] == []
    assert await stack.status_of(order_id) == "settled"
    assert len(stack.tap.of(order_id, SETTLED)) == 1


async def test_an_agreement_with_a_state_the_payment_left_writes_nothing(stack) -> None:
    """The one statement writes the audit row and the transition only if the payment still holds
    the state the notification was checked against."""
    order_id = await stack.opened()
    row = await stack.payment(order_id)
    read = PaymentState(PaymentStatus(row["status"]), row["amount"], row["refunded_amount"])
    fields: dict[str, Any] = {
        "order_id": order_id,
        "raw_body": b"{}",
        "detail": AGREES,
        "reason": None,
        "transaction_status": "pending",
        "remote_addr": None,
    }
    count = "SELECT count(*) FROM {} WHERE order_id = $1"
    transitions = await stack.db.fetchval(count.format("payment_transitions"), order_id)
    left = PaymentState(PaymentStatus.PENDING, read.amount)
    assert await repository.record_agreement(stack.db, left, **fields) is None
    assert await stack.db.fetchval(count.format("notifications"), order_id) == 0
    assert await stack.db.fetchval(count.format("payment_transitions"), order_id) == transitions
    nid = await repository.record_agreement(stack.db, read, **fields)
    assert nid is not None
    transition = await stack.db.fetchrow(
        "SELECT * FROM payment_transitions WHERE notification_id = $1", nid
    )
    assert (transition["from_status"], transition["to_status"]) == (row["status"], row["status"])


async def test_an_agreement_waits_for_a_change_in_flight_and_then_writes_nothing(stack) -> None:
    """A change holds the payment's row lock until it commits: the agreement read before it
    waits, then finds the payment moved, so the trail never shows a duplicate of a left state."""
    order_id = await stack.opened()
    row = await stack.payment(order_id)
    read = PaymentState(PaymentStatus(row["status"]), row["amount"], row["refunded_amount"])
    async with stack.db.acquire() as changer:
        change = changer.transaction()
        await change.start()
        await changer.execute("SELECT 1 FROM payments WHERE order_id = $1 FOR UPDATE", order_id)
        await changer.execute(
            "UPDATE payments SET status = 'pending' WHERE order_id = $1", order_id
        )
        agreement = asyncio.ensure_future(
            repository.record_agreement(
                stack.db,
                read,
                order_id=order_id,
                raw_body=b"{}",
                detail=AGREES,
                reason=None,
                transaction_status=str(read.status),
                remote_addr=None,
            )
        )
        await asyncio.sleep(0.3)
        assert not agreement.done()  # it waits for the change
        await change.commit()
    assert await agreement is None
    count = "SELECT count(*) FROM notifications WHERE order_id = $1"
    assert await stack.db.fetchval(count, order_id) == 0


async def test_repeated_pending_notifications_racing_the_settlement_each_audit_once(stack) -> None:
    """Twenty copies of the pending notification race the settlement's: a copy that finds the
    payment pending is audited as a duplicate without a lock, one that finds it settled is asked
    about. The payment settles once, and every notification has its one audit row and its one
    transition."""
    order_id = await stack.opened()
    await stack.pay(order_id, "bank_transfer", "pending", bank="bca")
    await stack.wait_status(order_id, "pending")
    pending = await sent_by_sandbox(stack, order_id, "pending")
    await stack.pay(order_id, "bank_transfer", "settlement", bank="bca", notify=False)
    settlement = stack.sign({**pending, "transaction_status": "settlement", "status_code": "200"})
    audit_count = "SELECT count(*) FROM notifications WHERE order_id = $1"
    before = await stack.db.fetchval(audit_count, order_id)

    answers = await asyncio.gather(
        *[stack.notify(pending) for _ in range(10)],
        stack.notify(settlement),
        *[stack.notify(pending) for _ in range(10)],
    )
    assert [a.status_code for a in answers] == [200] * 21, [a.text for a in answers]
    verdicts = sorted(a.json()["data"]["verdict"] for a in answers)
    assert verdicts == ["applied"] + ["duplicate"] * 20
    assert await stack.status_of(order_id) == "settled"
    audited = await stack.db.fetch(
        """SELECT n.verdict, count(t.id) AS transitions FROM notifications n
             LEFT JOIN payment_transitions t ON t.notification_id = n.id
            WHERE n.order_id = $1 GROUP BY n.id ORDER BY n.id OFFSET $2""",
        order_id,
        before,
    )
    assert len(audited) == 21
    assert all(row["transitions"] == 1 for row in audited)
    # The trail reads in order: each transition starts where the one before it ended.
    trail = await stack.db.fetch(
        "SELECT from_status, to_status FROM payment_transitions WHERE order_id = $1 ORDER BY id",
        order_id,
    )
    for before, after in itertools.pairwise(trail):
        assert after["from_status"] == before["to_status"], [tuple(t) for t in trail]
    await asyncio.sleep(0.3)
    assert len(stack.tap.of(order_id, SETTLED)) == 1


async def test_a_copied_settlement_signature_cannot_claim_a_refund_or_chargeback(stack) -> None:
    """status_code 200 fits refund and chargeback too: only the status API stops this one."""
    order_id = await stack.opened()
    await stack.pay(order_id, "gopay", "settlement")
    await stack.wait_status(order_id, "settled")
    settlement = await sent_by_sandbox(stack, order_id, "settlement")
    for claim in ("refund", "chargeback"):
        response = await stack.notify({**settlement, "transaction_status": claim})
        assert response.status_code == 200, response.text
        assert response.json()["data"]["verdict"] == "duplicate"
    assert await stack.status_of(order_id) == "settled"
    audit = await latest_notification(stack, order_id)
    assert audit["detail"] == (
        "confirmed with the status API: notification said chargeback, Midtrans settlement"
    )
    assert stack.tap.of(order_id, "payment.refunded") == []


async def test_a_status_code_or_currency_mismatch_is_refused_and_audited(stack) -> None:
    order_id = await stack.opened()
    await stack.pay(order_id, "qris", "pending")
    await stack.wait_status(order_id, "pending")
    base = await sent_by_sandbox(stack, order_id, "pending")
    cases = [
        ({"transaction_status": "settlement", "status_code": "201"}, "does not fit"),
        ({"transaction_status": "expire", "status_code": "200"}, "does not fit"),
        ({"transaction_status": "settlement", "status_code": "200", "currency": "USD"}, "USD"),
    ]
    for change, detail in cases:
        response = await stack.notify(stack.sign({**base, **change}))
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "inconsistent_notification"
        audit = await latest_notification(stack, order_id)
        assert audit["verdict"] == "inconsistent"
        assert detail in audit["detail"]
    assert await stack.status_of(order_id) == "pending"


async def test_an_unknown_fraud_status_never_pays(stack, dev_replica: str) -> None:
    # In development (confirmation off) the notification's own fraud_status is what counts.
    order_id = await stack.opened(service_url=dev_replica)
    await stack.pay(order_id, "credit_card", "pending", notify=False)
    status = (await stack.core("GET", f"/v2/{order_id}/status")).json()
    body = stack.sign(
        {**status, "transaction_status": "capture", "status_code": "200", "fraud_status": "review"}
    )
    response = await stack.http.post(f"{dev_replica}/api/payment/notification", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["verdict"] == "unknown_status"
    payment = await stack.payment(order_id)
    assert payment["status"] == "created"
    assert "fraud_status review" in payment["flag_reason"]
    # With confirmation (every other environment) the status API's truth is applied instead.
    response = await stack.notify(body)
    assert response.status_code == 200, response.text
    assert await stack.status_of(order_id) == "pending"
    assert stack.tap.of(order_id, SETTLED) == []


async def test_a_status_api_outage_answers_503_and_the_retry_applies(stack) -> None:
    dead_core = f"http://127.0.0.1:{free_port()}"
    process, url = await stack.replica(
        "no-status-api", MIDTRANS_CORE_BASE_URL=dead_core, MIDTRANS_RETRIES="0"
    )
    try:
        order_id = await stack.opened()
        await stack.pay(order_id, "gopay", "settlement", notify=False)
        status = (await stack.core("GET", f"/v2/{order_id}/status")).json()
        body = stack.sign({**status, "status_code": "200"})
        response = await stack.http.post(f"{url}/api/payment/notification", json=body)
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "midtrans_unavailable"
        assert await stack.status_of(order_id) == "created"
        assert (await latest_notification(stack, order_id))["verdict"] == "deferred"
    finally:
        process.stop()
    # Midtrans retries (here: on the healthy replica) and the settlement is applied once.
    assert (await stack.notify(body)).status_code == 200
    assert await stack.status_of(order_id) == "settled"
    assert len(await stack.wait_events(order_id, SETTLED)) == 1


async def test_a_database_failure_answers_503_never_200(stack) -> None:
    db_url = stack.env["DATABASE_URL"]
    separator = "&" if "?" in db_url else "?"
    process, url = await stack.replica(
        "short-lock-timeout", DATABASE_URL=f"{db_url}{separator}lock_timeout=300"
    )
    try:
        order_id = await stack.opened()
        await stack.pay(order_id, "gopay", "settlement", notify=False)
        status = (await stack.core("GET", f"/v2/{order_id}/status")).json()
        body = stack.sign({**status, "status_code": "200"})
        async with stack.db.acquire() as conn, conn.transaction():
            # The audit table cannot be written for now (a stuck migration, a full disk...).
            await conn.execute("LOCK TABLE notifications IN EXCLUSIVE MODE")
            response = await stack.http.post(f"{url}/api/payment/notification", json=body)
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "notification_deferred"
        assert await stack.status_of(order_id) == "created"
        again = await stack.http.post(f"{url}/api/payment/notification", json=body)
        assert again.status_code == 200, again.text
        assert await stack.status_of(order_id) == "settled"
    finally:
        process.stop()


# ----- 2. a declined card is not the end of the order -----


async def test_a_settlement_after_a_declined_card_pays_the_same_order(stack) -> None:
    order_id = await stack.opened()
    await stack.pay(order_id, "credit_card", "deny")
    await stack.wait_status(order_id, "denied")
    declined = (await stack.wait_events(order_id, DECLINED))[0]["payload"]
    assert declined["payment_status"] == "denied"
    assert declined["reason"] == "Do not honor"  # the card's channel response, not our audit
    view = await status_view(stack, order_id)
    assert (view["status"], view["declined"], view["can_retry"]) == ("denied", True, True)
    assert "Try another card" in view["message"]
    assert stack.tap.of(order_id, FAILED) == []
    # The buyer still gets the Snap page and pays with another card.
    token = await stack.http.post(
        f"{stack.service_url}/api/payment/create-snap-token",
        json={"order_id": order_id, "amount": 150_000},
        headers=stack.token("user-42"),
    )
    assert token.status_code == 200, token.text
    await stack.pay(order_id, "credit_card", "settlement")
    await stack.wait_status(order_id, "settled")
    settled = (await stack.wait_events(order_id, SETTLED))[0]["payload"]
    assert settled["sequence"] > declined["sequence"]
    assert settled["payment_status"] == "settled"
    assert (await status_view(stack, order_id))["declined"] is False


async def test_a_declined_order_whose_seat_is_released_ends_expired(stack) -> None:
    from datetime import UTC, datetime

    from ticketing_contracts import TicketExpired

    order_id = await stack.opened()
    await stack.pay(order_id, "credit_card", "deny")
    await stack.wait_status(order_id, "denied")
    await stack.publish(
        TicketExpired(
            ticket_id=f"ticket-{order_id}",
            event_id="event-1",
            user_id="user-42",
            order_id=order_id,
            attendance_code="K7P3",
            holder_name="Siti Rahma",
            holder_email="siti@example.id",
            event_title="Jakarta Jazz Night",
            event_starts_at=datetime(2026, 12, 20, 12, tzinfo=UTC),
            expired_at=datetime.now(UTC),
        )
    )
    await stack.wait_status(order_id, "expired")
    failed = (await stack.wait_events(order_id, FAILED))[0]["payload"]
    assert failed["transaction_status"] == "expire"


# ----- 3. sequencing, reversal, late money -----


async def test_a_reversal_is_applied_whether_or_not_the_deny_carries_settlement_time(
    stack, dev_replica: str
) -> None:
    # Confirmed (default): the bank reverses in the dashboard; the notification is lost.
    order_id = await stack.opened()
    await stack.pay(order_id, "echannel", "settlement")
    await stack.wait_status(order_id, "settled")
    reverse = await stack.http.post(
        f"{stack.sandbox_url}/_sandbox/orders/{order_id}/dashboard",
        json={"action": "reverse", "notify": False},
    )
    assert reverse.status_code == 200, reverse.text
    settlement = await sent_by_sandbox(stack, order_id, "settlement")
    deny = {k: v for k, v in settlement.items() if k != "settlement_time"}
    response = await stack.notify(
        stack.sign({**deny, "transaction_status": "deny", "status_code": "202"})
    )
    assert response.status_code == 200, response.text
    assert await stack.status_of(order_id) == "reversed"
    # Development (applied as sent): a deny without settlement_time on a settled payment.
    dev_order = await stack.opened(service_url=dev_replica)
    await stack.pay(dev_order, "echannel", "settlement", notify=False)
    status = (await stack.core("GET", f"/v2/{dev_order}/status")).json()
    settle = stack.sign({**status, "status_code": "200"})
    assert (
        await stack.http.post(f"{dev_replica}/api/payment/notification", json=settle)
    ).status_code == 200
    assert await stack.status_of(dev_order) == "settled"
    bare = {k: v for k, v in settle.items() if k != "settlement_time"}
    bare = stack.sign({**bare, "transaction_status": "deny", "status_code": "202"})
    response = await stack.http.post(f"{dev_replica}/api/payment/notification", json=bare)
    assert response.status_code == 200, response.text
    assert await stack.status_of(dev_order) == "reversed"
    for oid in (order_id, dev_order):
        failed = (await stack.wait_events(oid, FAILED))[0]["payload"]
        assert "reversed" in failed["reason"]
        settled = stack.tap.of(oid, SETTLED)[0]["payload"]
        assert failed["sequence"] > settled["sequence"]


async def test_settlement_after_a_local_expiry_is_late_money_published_as_settled(stack) -> None:
    order_id = await stack.opened()
    # Our side ended the payment (nobody had picked a method, the hold was over) ...
    await stack.db.execute(
        """UPDATE payments SET expires_at = now() - interval '10 seconds',
                  updated_at = now() - interval '1 hour' WHERE order_id = $1""",
        order_id,
    )
    await stack.wait_status(order_id, "expired")
    # ... but the buyer was still on the Snap page and paid.
    await stack.pay(order_id, "gopay", "settlement")
    await stack.wait_status(order_id, "settled")
    assert [m["event_type"] for m in stack.tap.of(order_id)][:1] == [FAILED]
    settled = (await stack.wait_events(order_id, SETTLED))[0]
    assert settled["version"] == 3
    payload = settled["payload"]
    assert payload["payment_status"] == "settled"
    failed = stack.tap.of(order_id, FAILED)[0]["payload"]
    assert payload["sequence"] == failed["sequence"] + 1
    reason = await stack.db.fetchval(
        """SELECT reason FROM payment_transitions
           WHERE order_id = $1 AND from_status = 'expired' AND to_status = 'settled'""",
        order_id,
    )
    assert reason.startswith("late money: settlement after expired")


async def test_every_published_event_of_a_payment_is_v2_with_increasing_sequence(stack) -> None:
    order_id = await stack.opened()
    await stack.pay(order_id, "gopay", "pending")
    await stack.wait_status(order_id, "pending")
    await stack.pay(order_id, None, "settlement")
    await stack.wait_status(order_id, "settled")
    refund = await stack.http.post(
        f"{stack.sandbox_url}/_sandbox/orders/{order_id}/dashboard",
        json={"action": "partial_refund", "amount": 50_000},
    )
    assert refund.status_code == 200, refund.text
    await stack.wait_status(order_id, "partially_refunded")
    await stack.wait_events(order_id, "payment.refunded")
    messages = await published(stack, order_id)  # sequences 1..n, gap-free
    assert [m["payload"]["payment_status"] for m in life_of(messages)] == [
        "pending",
        "settled",
        "partially_refunded",
    ]
    assert all(m["version"] == 3 for m in life_of(messages))
    # The dashboard refund is shown as a refund: payment.refund_updated (v2) takes the next
    # number of the same sequence, right after the payment.refunded that found it.
    assert [(m["event_type"], m["payload"]["sequence"]) for m in messages] == [
        (PENDING, 1),
        (SETTLED, 2),
        ("payment.refunded", 3),
        ("payment.refund_updated", 4),
    ]
    update = messages[-1]
    assert update["version"] == 2
    assert (update["payload"]["refund_amount"], update["payload"]["refund_status"]) == (
        50_000,
        "succeeded",
    )


# ----- 5. limits -----


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def limited(stack) -> AsyncIterator[tuple[ServiceProcess, str]]:
    process, url = await stack.replica(
        "limited",
        GUARD_KEY_PREFIX=f"payment-service-limits-{uuid.uuid4().hex[:12]}",
        SNAP_TOKEN_RATE_LIMIT="2",
        STATUS_RATE_LIMIT="3",
        RATE_LIMIT_WINDOW_SECONDS="30",
        STATUS_CACHE_SECONDS="5",
        INVALID_NOTIFICATIONS_STORED_PER_MINUTE="3",
    )
    try:
        yield process, url
    finally:
        process.stop()


async def test_status_and_snap_token_are_limited_per_user_under_a_race(stack, limited) -> None:
    _, url = limited
    user = f"user-{uuid.uuid4().hex[:10]}"
    calls = [
        stack.http.get(f"{url}/api/payment/status/TIX-none", headers=stack.token(user))
        for _ in range(10)
    ]
    answers = await asyncio.gather(*calls)
    codes = sorted(a.status_code for a in answers)
    assert codes == [404] * 3 + [429] * 7
    limited_answer = next(a for a in answers if a.status_code == 429)
    assert limited_answer.json()["error"]["code"] == "rate_limited"
    retry = int(limited_answer.headers["Retry-After"])
    assert 1 <= retry <= 30
    assert limited_answer.json()["error"]["details"]["retry_after_seconds"] == retry
    # Another user is not affected; the snap-token limit is separate and smaller.
    other = await stack.http.get(
        f"{url}/api/payment/status/TIX-none", headers=stack.token(f"{user}-b")
    )
    assert other.status_code == 404
    snap = [
        await stack.http.post(
            f"{url}/api/payment/create-snap-token",
            json={"orderId": "TIX-none", "amount": 1000},
            headers=stack.token(user),
        )
        for _ in range(3)
    ]
    assert [r.status_code for r in snap] == [404, 404, 429]


async def test_polling_the_status_asks_midtrans_once_per_cache_window(stack, limited) -> None:
    _, url = limited
    user = f"user-{uuid.uuid4().hex[:10]}"
    order_id = await stack.opened(user_id=user)
    await stack.pay(order_id, "bank_transfer", "pending")
    await stack.wait_status(order_id, "pending")
    for _ in range(3):
        response = await stack.http.get(
            f"{url}/api/payment/status/{order_id}", headers=stack.token(user)
        )
        assert response.status_code == 200
        assert response.json()["data"]["midtrans"]["transaction_status"] == "pending"
    calls = await stack.db.fetchval(
        """SELECT count(*) FROM gateway_calls
           WHERE order_id = $1 AND source = 'api' AND operation = 'core.status'""",
        order_id,
    )
    assert calls == 1


async def test_invalid_bodies_beyond_the_minute_s_budget_are_counted_not_stored(
    stack, limited
) -> None:
    _, url = limited
    marker = uuid.uuid4().hex
    started = time.time()
    bodies = [f'{{"note": "{marker}-{i}"'.encode() for i in range(8)]
    for body in bodies:
        response = await stack.http.post(f"{url}/api/payment/notification", content=body)
        assert response.status_code == 400
    stored = await stack.db.fetchval(
        "SELECT count(*) FROM notifications WHERE raw_body LIKE $1", f"%{marker}%"
    )
    dropped = await stack.db.fetchval(
        """SELECT coalesce(sum(dropped), 0) FROM notifications_dropped
           WHERE verdict = 'malformed' AND minute >= date_trunc('minute', to_timestamp($1))""",
        started - 60,
    )
    if int(started // 60) == int(time.time() // 60):  # all eight fell in one minute
        assert stored == 3
    assert stored <= 6
    assert dropped >= 8 - stored


# ----- 7. the seed's camelCase body -----


async def test_create_snap_token_accepts_the_seed_s_camel_case_body(stack) -> None:
    opened = (await stack.open()).json()["data"]
    response = await stack.http.post(
        f"{stack.service_url}/api/payment/create-snap-token",
        json={
            "orderId": opened["order_id"],
            "amount": 150000.0,
            "customerName": "Siti Rahma",
            "customerEmail": "siti@example.id",
            "customerPhone": "+628123456789",
        },
        headers=stack.token("user-42"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["token"] == opened["snap_token"]


async def test_racing_notifications_keep_the_sequence_gap_free(stack) -> None:
    order_id = await stack.opened()
    await stack.pay(order_id, "gopay", "pending", notify=False)
    await stack.pay(order_id, None, "settlement", notify=False)
    refund = await stack.http.post(
        f"{stack.sandbox_url}/_sandbox/orders/{order_id}/dashboard",
        json={"action": "partial_refund", "amount": 40_000, "notify": False},
    )
    assert refund.status_code == 200, refund.text
    status = (await stack.core("GET", f"/v2/{order_id}/status")).json()
    bodies = [
        stack.sign({**status, "transaction_status": s, "status_code": c})
        for s, c in (("pending", "201"), ("settlement", "200"), ("partial_refund", "200"))
    ]
    answers = await asyncio.gather(*(stack.notify(b) for b in bodies * 10))
    assert {a.status_code for a in answers} == {200}
    assert [a.json()["data"]["verdict"] for a in answers].count("applied") == 1
    assert await stack.status_of(order_id) == "partially_refunded"
    await stack.wait_events(order_id, "payment.refunded")
    await asyncio.sleep(0.3)
    messages = await published(stack, order_id)  # sequences 1..n, gap-free
    # One applied answer: one settlement, one refund, and the dashboard refund shown once.
    assert [(m["event_type"], m["payload"]["sequence"]) for m in messages] == [
        (SETTLED, 1),
        ("payment.refunded", 2),
        ("payment.refund_updated", 3),
    ]


async def test_the_notification_key_is_separate_from_the_server_key(stack) -> None:
    import hashlib

    key = "SB-Mid-server-notification-only"
    process, url = await stack.replica("own-notification-key", MIDTRANS_NOTIFICATION_KEY=key)
    try:
        order_id = await stack.opened()
        await stack.pay(order_id, "gopay", "settlement", notify=False)
        status = (await stack.core("GET", f"/v2/{order_id}/status")).json()
        body = {**status, "status_code": "200"}
        # Signed with the server key: refused where the notification key differs.
        refused = await stack.http.post(f"{url}/api/payment/notification", json=stack.sign(body))
        assert refused.status_code == 403, refused.text
        raw = f"{order_id}200{body['gross_amount']}{key}".encode()
        signed = {**body, "signature_key": hashlib.sha512(raw).hexdigest()}
        accepted = await stack.http.post(f"{url}/api/payment/notification", json=signed)
        assert accepted.status_code == 200, accepted.text
        assert await stack.status_of(order_id) == "settled"
    finally:
        process.stop()
