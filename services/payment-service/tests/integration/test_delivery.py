"""Delivery guarantees: repeated notifications across a crash, lost notifications, replicas."""

import asyncio

SETTLED = "payment.settled"


async def test_a_settlement_delivered_five_times_across_crashes_is_published_once(stack) -> None:
    order_id = await stack.opened()
    await stack.pay(order_id, "gopay", "pending")
    await stack.wait_status(order_id, "pending")

    await stack.pay(order_id, None, "settlement")
    stack.service.kill()  # SIGKILL while the settlement is in flight
    await stack.replay(order_id, everything=False)
    await stack.service.start()
    await stack.replay(order_id, everything=False)
    await stack.wait_status(order_id, "settled", timeout=20)
    stack.service.kill()  # and again, right after it was applied: the relay may not have run
    await stack.replay(order_id, everything=False)
    await stack.service.start()
    await stack.replay(order_id, everything=False)
    await stack.replay(order_id, everything=False)

    await stack.deliveries_settled(order_id)
    await stack.wait_events(order_id, SETTLED)
    await asyncio.sleep(0.5)  # room for a duplicate publish to show up
    published = stack.tap.of(order_id, SETTLED)
    assert len({e["event_id"] for e in published}) == 1
    assert len(published) == 1
    outbox = await stack.db.fetch(
        "SELECT sent_at FROM outbox WHERE event_type = $1 AND body->'payload'->>'order_id' = $2",
        SETTLED,
        order_id,
    )
    assert len(outbox) == 1
    assert outbox[0]["sent_at"] is not None
    deliveries = (await stack.sandbox_notifications(order_id))["attempts"]
    assert sum(1 for a in deliveries if a["body"]["transaction_status"] == "settlement") >= 5


async def test_a_lost_notification_is_recovered_by_the_reconciler(stack) -> None:
    # A replica whose notification URL goes nowhere: Midtrans' notifications are lost.
    from servicekit.testing import free_port

    lossy, lossy_url = await stack.replica(
        "lossy", MIDTRANS_NOTIFICATION_URL=f"http://127.0.0.1:{free_port()}/lost"
    )
    try:
        order_id = await stack.opened(service_url=lossy_url)
        await stack.pay(order_id, "qris", "settlement")
        await stack.wait_status(order_id, "settled", timeout=15)
    finally:
        lossy.stop()
    attempts = (await stack.sandbox_notifications(order_id))["attempts"]
    assert attempts
    assert not any(a["success"] for a in attempts)
    rows = await stack.db.fetch(
        "SELECT source, events FROM payment_transitions WHERE order_id = $1 AND verdict = 'applied'"
        " AND from_status <> to_status",
        order_id,
    )
    assert [(r["source"], r["events"]) for r in rows] == [("reconciler", ["payment.settled"])]
    assert len(await stack.wait_events(order_id, SETTLED)) == 1
    audit = await stack.db.fetchval(
        "SELECT count(*) FROM gateway_calls WHERE order_id = $1 AND source = 'reconciler'",
        order_id,
    )
    assert audit >= 1
