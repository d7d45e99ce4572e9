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
    # One event: one outbox row, one event_id. The relay publishes at least once, so a kill
    # between the broker's confirm and the relay's commit can put the same event_id on the
    # broker a second time; consumers' inboxes drop it by event_id (servicekit's contract).
    assert len({e["event_id"] for e in published}) == 1
    assert len(published) <= 2
    print(f"payment.settled copies on the broker: {len(published)}")
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


async def test_the_same_settlement_posted_twenty_times_at_once_is_applied_once(stack) -> None:
    order_id = await stack.opened()
    await stack.pay(order_id, "gopay", "pending")
    await stack.wait_status(order_id, "pending")
    await stack.pay(order_id, None, "settlement")
    await stack.deliveries_settled(order_id)
    sent = (await stack.sandbox_notifications(order_id))["notifications"]
    settlement = next(n["body"] for n in sent if n["body"]["transaction_status"] == "settlement")
    responses = await asyncio.gather(*(stack.notify(settlement) for _ in range(20)))
    assert {r.status_code for r in responses} == {200}
    assert {r.json()["data"]["verdict"] for r in responses} == {"duplicate"}
    await asyncio.sleep(0.3)
    assert len(stack.tap.of(order_id, SETTLED)) == 1
    applied = await stack.db.fetchval(
        "SELECT count(*) FROM notifications WHERE order_id = $1 AND verdict = 'applied'", order_id
    )
    assert applied == 2  # pending, settlement


async def test_racing_notifications_of_a_fresh_payment_settle_it_once(stack) -> None:
    order_id = await stack.opened()
    await stack.pay(order_id, "qris", "pending")
    await stack.pay(order_id, None, "settlement")
    await stack.deliveries_settled(order_id)
    bodies = [n["body"] for n in (await stack.sandbox_notifications(order_id))["notifications"]]
    # Another order gets the same bodies, all at once, in both orders, many times.
    await stack.wait_status(order_id, "settled")
    twin = await stack.opened()
    # Midtrans knows the twin's payment (its own notifications were lost): the status API
    # confirms what the racing bodies say.
    await stack.pay(twin, "qris", "pending", notify=False)
    await stack.pay(twin, None, "settlement", notify=False)
    twin_bodies = [stack.sign({**b, "order_id": twin}) for b in bodies]
    responses = await asyncio.gather(*(stack.notify(b) for b in twin_bodies * 10))
    assert {r.status_code for r in responses} == {200}
    assert await stack.status_of(twin) == "settled"
    await stack.wait_events(twin, SETTLED)
    await asyncio.sleep(0.3)
    assert len(stack.tap.of(twin, SETTLED)) == 1
    assert len(stack.tap.of(twin, "payment.pending")) <= 1


async def test_reconciler_claims_never_overlap_between_replicas(stack) -> None:
    from payment_service.adapters import repository as repo

    ids = [stack.new_order_id() for _ in range(30)]
    for order_id in ids:
        await stack.db.execute(
            """INSERT INTO payments (order_id, amount, user_id, ticket_id, event_id, customer,
                      items, metadata, expires_at, status, updated_at)
               VALUES ($1, 1000, 'u', 't', 'e', '{}', '[]', '{}', now(), 'pending',
                       now() - interval '1 hour')""",
            order_id,
        )

    async def claim() -> list[str]:
        async with stack.db.acquire() as conn:
            return await repo.claim_for_reconciliation(conn, older_than_seconds=1800, limit=7)

    claims = await asyncio.gather(*(claim() for _ in range(8)))
    claimed = [order_id for batch in claims for order_id in batch if order_id in ids]
    assert len(claimed) == len(set(claimed))
    await stack.db.execute("UPDATE payments SET status = 'expired' WHERE order_id = ANY($1)", ids)


async def test_a_payment_nobody_started_is_expired_once_its_snap_session_is_over(stack) -> None:
    order_id = await stack.opened()
    # The hold ended a while ago and the customer never picked a method (Midtrans: 404).
    await stack.db.execute(
        """UPDATE payments SET expires_at = now() - interval '10 seconds',
                  updated_at = now() - interval '1 hour' WHERE order_id = $1""",
        order_id,
    )
    await stack.wait_status(order_id, "expired")
    failed = await stack.wait_events(order_id, "payment.failed")
    assert failed[0]["payload"]["transaction_status"] == "expire"
    reason = await stack.db.fetchval(
        "SELECT reason FROM payment_transitions WHERE order_id = $1 AND to_status = 'expired'",
        order_id,
    )
    assert reason == "Midtrans has no transaction and the Snap session has ended"
