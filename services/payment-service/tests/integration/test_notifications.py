"""Midtrans notifications delivered by the sandbox over HTTP, and forged ones sent by hand."""

import hashlib
import json

import pytest

SETTLED, PENDING, FAILED, REFUNDED, DECLINED = (
    "payment.settled",
    "payment.pending",
    "payment.failed",
    "payment.refunded",
    "payment.declined",
)


async def test_bank_transfer_pending_then_settlement_publishes_pending_and_settled(stack) -> None:
    order_id = await stack.opened()
    await stack.pay(order_id, "bank_transfer", "pending", bank="bca")
    await stack.wait_status(order_id, "pending")
    pending = (await stack.wait_events(order_id, PENDING))[0]["payload"]
    assert pending["instructions"]["va_numbers"][0]["bank"] == "bca"
    assert pending["expires_at"]
    assert pending["customer_email"] == "siti@example.id"
    assert pending["event_title"] == "Jakarta Jazz Night"
    await stack.pay(order_id, None, "settlement")
    await stack.wait_status(order_id, "settled")
    settled = (await stack.wait_events(order_id, SETTLED))[0]["payload"]
    assert settled["amount"] == 150_000
    assert settled["ticket_id"] == f"ticket-{order_id}"
    assert settled["payment_type"] == "bank_transfer"
    payment = await stack.payment(order_id)
    assert payment["transaction_status"] == "settlement"
    assert payment["settled_at"] is not None


@pytest.mark.parametrize(
    ("payment_type", "outcome", "status", "event"),
    [
        ("credit_card", "capture", "captured", SETTLED),
        ("credit_card", "settlement", "settled", SETTLED),
        ("credit_card", "challenge", "challenge", None),
        # Issue 10: a declined card is not the end of the order (Snap lets the buyer retry).
        ("credit_card", "deny", "denied", DECLINED),
        ("gopay", "cancel", "cancelled", FAILED),
        ("qris", "expire", "expired", FAILED),
        ("echannel", "failure", "failed", FAILED),
    ],
)
async def test_each_transaction_status_is_handled(
    stack, payment_type: str, outcome: str, status: str, event: str | None
) -> None:
    order_id = await stack.opened()
    await stack.pay(order_id, payment_type, outcome)
    await stack.wait_status(order_id, status)
    await stack.deliveries_settled(order_id)
    if event:
        assert len(await stack.wait_events(order_id, event)) == 1
    assert stack.tap.of(order_id, SETTLED if event != SETTLED else FAILED) == []


async def test_a_challenged_card_waits_then_approval_pays(stack) -> None:
    order_id = await stack.opened()
    await stack.pay(order_id, "credit_card", "challenge")
    await stack.wait_status(order_id, "challenge")
    assert stack.tap.of(order_id, SETTLED) == []
    approved = await stack.core("POST", f"/v2/{order_id}/approve")
    assert approved.status_code == 200, approved.text
    await stack.wait_status(order_id, "captured")
    assert len(await stack.wait_events(order_id, SETTLED)) == 1


async def test_a_settlement_reversed_to_deny_fails_the_payment(stack) -> None:
    order_id = await stack.opened()
    await stack.pay(order_id, "echannel", "settlement")
    await stack.wait_status(order_id, "settled")
    await stack.pay(order_id, None, "deny")
    await stack.wait_status(order_id, "reversed")
    failed = (await stack.wait_events(order_id, FAILED))[0]["payload"]
    assert failed["transaction_status"] == "deny"
    assert "reversed" in failed["reason"]
    assert len(stack.tap.of(order_id, SETTLED)) == 1


async def test_a_chargeback_after_settlement_publishes_refunded(stack) -> None:
    # Issue 10: a chargeback is applied because Midtrans' status API confirms it (a signed
    # body alone no longer is); the bank's chargeback comes through the sandbox's dashboard.
    order_id = await stack.opened()
    await stack.pay(order_id, "credit_card", "settlement")
    await stack.wait_status(order_id, "settled")
    response = await stack.http.post(
        f"{stack.sandbox_url}/_sandbox/orders/{order_id}/dashboard", json={"action": "chargeback"}
    )
    assert response.status_code == 200, response.text
    await stack.wait_status(order_id, "charged_back")
    refunded = (await stack.wait_events(order_id, REFUNDED))[0]["payload"]
    assert refunded["transaction_status"] == "chargeback"
    assert refunded["fully_refunded"] is True


async def test_a_forged_signature_is_403_and_changes_nothing(stack) -> None:
    order_id = await stack.opened()
    await stack.pay(order_id, "bank_transfer", "pending")
    await stack.wait_status(order_id, "pending")
    status = (await stack.core("GET", f"/v2/{order_id}/status")).json()
    forged = {**status, "transaction_status": "settlement", "status_code": "200"}
    forged["signature_key"] = hashlib.sha512(b"guess").hexdigest()
    response = await stack.notify(forged)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invalid_signature"
    assert await stack.status_of(order_id) == "pending"
    audit = await stack.db.fetchrow(
        "SELECT * FROM notifications WHERE order_id = $1 ORDER BY id DESC LIMIT 1", order_id
    )
    assert audit["verdict"] == "invalid_signature"
    assert audit["signature_valid"] is False
    assert json.loads(audit["raw_body"])["signature_key"] == forged["signature_key"]
    assert stack.tap.of(order_id, SETTLED) == []


async def test_a_tampered_amount_is_refused_flagged_and_changes_nothing(stack) -> None:
    order_id = await stack.opened()
    await stack.pay(order_id, "bank_transfer", "pending")
    await stack.wait_status(order_id, "pending")
    status = (await stack.core("GET", f"/v2/{order_id}/status")).json()
    # Correctly signed (someone holds the key) but for a smaller amount.
    cheap = stack.sign(
        {
            **status,
            "transaction_status": "settlement",
            "status_code": "200",
            "gross_amount": "1000.00",
        },
    )
    response = await stack.notify(cheap)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "amount_mismatch"
    payment = await stack.payment(order_id)
    assert payment["status"] == "pending"
    assert payment["flagged_at"] is not None
    assert "gross_amount 1000.00" in payment["flag_reason"]
    # Unsigned tampering breaks the signature instead.
    status["gross_amount"] = "1000.00"
    assert (await stack.notify(status)).status_code == 403
    assert stack.tap.of(order_id, SETTLED) == []


async def test_malformed_and_unknown_notifications_are_refused_and_audited(stack) -> None:
    before = await stack.db.fetchval("SELECT count(*) FROM notifications")
    assert (await stack.notify(b"{not json")).status_code == 400
    assert (await stack.notify(b'{"order_id": "x"}')).status_code == 400
    unknown = stack.sign(
        {
            "order_id": "TIX-nobody",
            "status_code": "200",
            "gross_amount": "1.00",
            "transaction_status": "settlement",
        },
    )
    response = await stack.notify(unknown)
    assert response.status_code == 404
    rows = await stack.db.fetch(
        """SELECT verdict FROM notifications
           WHERE id > $1 AND (order_id IS NULL OR order_id = 'TIX-nobody') ORDER BY id""",
        before,
    )
    verdicts = [r["verdict"] for r in rows]
    assert verdicts == ["malformed", "malformed", "unknown_order"]


async def test_replayed_and_reordered_notifications_change_nothing(stack) -> None:
    order_id = await stack.opened()
    await stack.pay(order_id, "bank_transfer", "pending")
    await stack.wait_status(order_id, "pending")
    await stack.pay(order_id, None, "settlement")
    await stack.wait_status(order_id, "settled")
    await stack.wait_events(order_id, SETTLED)
    await stack.deliveries_settled(order_id)
    for shuffle in (False, True, True, True):
        await stack.replay(order_id, everything=True, shuffle=shuffle)
    await stack.deliveries_settled(order_id)
    assert await stack.status_of(order_id) == "settled"
    verdicts = [
        r["verdict"]
        for r in await stack.db.fetch(
            "SELECT verdict FROM notifications WHERE order_id = $1 ORDER BY id", order_id
        )
    ]
    assert verdicts.count("applied") == 2
    assert len(verdicts) == 10
    # Issue 10: each replay is confirmed with the status API, whose answer (settlement) is
    # what gets applied: a stale pending is a duplicate of the truth, never a step back.
    assert set(verdicts[2:]) == {"duplicate"}
    assert len(stack.tap.of(order_id, SETTLED)) == 1
    assert len(stack.tap.of(order_id, PENDING)) == 1


async def test_audit_tables_refuse_updates_and_deletes(stack) -> None:
    import asyncpg

    for sql in (
        "UPDATE notifications SET verdict = 'applied'",
        "DELETE FROM payment_transitions",
        "DELETE FROM gateway_calls",
    ):
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await stack.db.execute(sql)


async def test_every_change_leaves_a_transition_with_its_source(stack) -> None:
    order_id = await stack.opened()
    await stack.pay(order_id, "gopay", "pending")
    await stack.wait_status(order_id, "pending")
    await stack.pay(order_id, None, "settlement")
    await stack.wait_status(order_id, "settled")
    rows = await stack.db.fetch(
        """SELECT from_status, to_status, source, verdict, events, gateway_body, notification_id
           FROM payment_transitions WHERE order_id = $1 ORDER BY id""",
        order_id,
    )
    applied = [r for r in rows if r["verdict"] == "applied" and r["from_status"] != r["to_status"]]
    assert [(r["from_status"], r["to_status"]) for r in applied] == [
        ("created", "pending"),
        ("pending", "settled"),
    ]
    assert all(r["source"] == "notification" and r["notification_id"] for r in applied)
    assert applied[1]["events"] == ["payment.settled"]
    assert json.loads(applied[1]["gateway_body"])["transaction_status"] == "settlement"


async def test_with_status_api_verification_midtrans_answer_is_what_counts(stack) -> None:
    verifier, url = await stack.replica("verifier", MIDTRANS_VERIFY_WITH_STATUS_API="true")
    try:  # (on by default since issue 10; kept explicit here)
        order_id = await stack.opened(service_url=url)
        await stack.pay(order_id, "bank_transfer", "pending")
        await stack.wait_status(order_id, "pending")
        status = (await stack.core("GET", f"/v2/{order_id}/status")).json()
        # Signed (the key leaked) but untrue: Midtrans itself still says pending.
        claim = stack.sign({**status, "transaction_status": "settlement", "status_code": "200"})
        response = await stack.http.post(f"{url}/api/payment/notification", json=claim)
        assert response.status_code == 200, response.text
        assert response.json()["data"]["verdict"] == "duplicate"
        assert await stack.status_of(order_id) == "pending"
        audit = await stack.db.fetchrow(
            "SELECT detail FROM notifications WHERE order_id = $1 ORDER BY id DESC LIMIT 1",
            order_id,
        )
        assert audit["detail"] == (
            "confirmed with the status API: notification said settlement, Midtrans pending"
        )
        assert stack.tap.of(order_id, SETTLED) == []
    finally:
        verifier.stop()
