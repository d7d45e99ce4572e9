"""Each running service and the sandbox serve /metrics, and the figures move with a purchase.

A paid purchase goes through every part: ticket-service's purchase route and hold, payment-
service's Snap call and the Midtrans notification, the events through outbox and consumers, and
the e-ticket delivery. Figures are read from each process directly (the gateway has no route).
"""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from servicekit.testing import MetricSamples, metric, metric_sum, scrape_metrics

SERVICES = ("ticket-service", "payment-service", "notification-gateway", "midtrans-sandbox")


async def _scrape_all(stack: Any) -> dict[str, MetricSamples]:
    return {name: await scrape_metrics(stack.service_url(name)) for name in SERVICES}


async def _eventually(probe: Callable[[], Awaitable[bool]], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not await probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not show within {timeout}s")
        await asyncio.sleep(0.3)


async def _hold_a_ticket(
    stack: Any,
    gateway: httpx.AsyncClient,
    *,
    host: str,
    user: str,
    event_id: str,
    price: int,
    capacity: int,
    title: str,
    venue: str,
    buyer: str,
) -> dict[str, Any]:
    """A host's paid event and one buyer's pending ticket on it, through the gateway."""
    created = await gateway.put(
        f"/events/{event_id}",
        json={
            "title": title,
            "venue": venue,
            "starts_at": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
            "price": price,
            "currency": "IDR",
            "capacity": capacity,
        },
        headers=stack.auth(host, ("host",)),
    )
    assert created.status_code == 201, created.text
    bought = await gateway.post(
        "/tickets/purchase",
        json={
            "event_id": event_id,
            "user_id": user,
            "customer_name": buyer,
            "customer_email": f"{buyer.lower()}-{uuid.uuid4().hex[:8]}@example.id",
            "amount": price,
        },
        headers={**stack.auth(user), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert bought.status_code == 201, bought.text
    ticket: dict[str, Any] = bought.json()["data"]
    return ticket


async def test_a_paid_purchase_moves_every_services_figures(stack: Any) -> None:
    host, user = f"host-{uuid.uuid4()}", f"user-{uuid.uuid4()}"
    event_id = str(uuid.uuid4())
    before = await _scrape_all(stack)
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=20) as gateway:
        ticket = await _hold_a_ticket(
            stack,
            gateway,
            host=host,
            user=user,
            event_id=event_id,
            price=90_000,
            capacity=5,
            title="Malam Jazz Metrik",
            venue="Istora Senayan",
            buyer="Siti",
        )
        held = await _scrape_all(stack)

        async with httpx.AsyncClient(base_url=stack.sandbox_url, timeout=10) as sandbox:
            paid = await sandbox.post(
                f"/_sandbox/orders/{ticket['payment']['order_id']}/pay",
                json={"payment_type": "bank_transfer", "bank": "bca", "outcome": "settlement"},
            )
            assert paid.status_code == 200, paid.text

        async def active() -> bool:
            response = await gateway.get(f"/tickets/{ticket['id']}", headers=stack.auth(user))
            return bool(response.json()["data"]["status"] == "active")

        await _eventually(active, "the active ticket")

    def moved(after: dict[str, MetricSamples], process: str, name: str, **labels: str) -> float:
        return metric(after[process], name, **labels) - metric(before[process], name, **labels)

    # The purchase: counted under its route template, its hold visible while unpaid.
    purchase = {"service": "ticket-service", "method": "POST", "route": "/tickets/purchase"}
    assert moved(held, "ticket-service", "http_requests_total", **purchase, status="201") == 1
    assert moved(held, "ticket-service", "http_request_duration_seconds_count", **purchase) == 1
    assert metric(held["ticket-service"], "ticket_holds", state="held") >= 1
    # The Snap transaction payment-service opened for it, and the sandbox's own count.
    assert (
        moved(
            held,
            "payment-service",
            "midtrans_api_requests_total",
            operation="snap.create",
            outcome="ok",
        )
        == 1
    )
    assert (
        moved(
            held,
            "midtrans-sandbox",
            "http_requests_total",
            service="midtrans-sandbox",
            method="POST",
            route="/snap/v1/transactions",
            status="201",
        )
        == 1
    )

    async def settled_through() -> bool:
        after = await _scrape_all(stack)
        ticket_queue = {"queue": "ticket-service.payment-events", "event_type": "payment.settled"}
        notify_queue = {"queue": "notification-gateway.events", "event_type": "ticket.activated"}
        return (
            moved(after, "payment-service", "outbox_published_total") >= 1
            and moved(
                after,
                "ticket-service",
                "consumer_messages_total",
                **ticket_queue,
                outcome="applied",
            )
            >= 1
            and moved(after, "ticket-service", "outbox_published_total") >= 1
            and moved(
                after,
                "notification-gateway",
                "consumer_messages_total",
                **notify_queue,
                outcome="applied",
            )
            >= 1
            and moved(
                after,
                "notification-gateway",
                "notification_delivery_attempts_total",
                channel="email",
                outcome="sent",
            )
            >= 1
        )

    await _eventually(settled_through, "the settlement's figures")
    after = await _scrape_all(stack)
    notification = {"service": "payment-service", "method": "POST"}
    assert (
        moved(
            after,
            "payment-service",
            "http_requests_total",
            **notification,
            route="/api/payment/notification",
            status="200",
        )
        >= 1
    )
    assert (
        metric(
            after["midtrans-sandbox"], "midtrans_sandbox_notification_attempts", outcome="delivered"
        )
        >= 1
    )
    # Settled: the payment is no longer among the open ones.
    open_payments = metric_sum(after["payment-service"], "payments_open")
    assert open_payments == metric_sum(held["payment-service"], "payments_open") - 1
    queues = {
        "ticket-service": "ticket-service.payment-events",
        "payment-service": "payment-service.ticket-events",
        "notification-gateway": "notification-gateway.events",
    }
    for service, queue in queues.items():
        # Read at scrape time from the database and the broker: present for each service.
        assert ("outbox_backlog_events", frozenset({("service", service)})) in after[service]
        assert ("consumer_queue_messages_ready", frozenset({("queue", queue)})) in after[service]
        assert metric_sum(after[service], "consumer_dead_letter_messages") == 0
        assert metric(after[service], "process_resident_memory_bytes") > 0


async def test_the_gateway_does_not_route_metrics_or_internal_calls(stack: Any) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=10) as gateway:
        for path in ("/metrics", "/internal/payments", "/_health/../metrics"):
            response = await gateway.get(path)
            assert response.status_code == 404, path
            assert response.json()["error"]["code"] == "not_found"


async def test_an_expired_hold_is_swept_and_counted(stack: Any) -> None:
    host, user = f"host-{uuid.uuid4()}", f"user-{uuid.uuid4()}"
    event_id = str(uuid.uuid4())
    sweeps = {"service": "ticket-service", "job_name": "expire-unpaid-holds"}
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=20) as gateway:
        ticket = await _hold_a_ticket(
            stack,
            gateway,
            host=host,
            user=user,
            event_id=event_id,
            price=50_000,
            capacity=1,
            title="Hold yang Kedaluwarsa",
            venue="Bandung",
            buyer="Budi",
        )
        ticket_id = ticket["id"]
        held = await scrape_metrics(stack.service_url("ticket-service"))
        assert metric(held, "ticket_holds", state="held") >= 1

        conn = await asyncpg.connect(stack.database_url("ticket-service"))
        try:
            # Its 15 minutes pass at once: the hold is overdue until the sweeper runs.
            await conn.execute(
                "UPDATE tickets SET hold_expires_at = now() WHERE id = $1", uuid.UUID(ticket_id)
            )
        finally:
            await conn.close()

        async def expired() -> bool:
            response = await gateway.get(f"/tickets/{ticket_id}", headers=stack.auth(user))
            return bool(response.json()["data"]["status"] == "expired")

        await _eventually(expired, "the expired hold")
    after = await scrape_metrics(stack.service_url("ticket-service"))
    assert metric(after, "background_job_items_total", **sweeps) >= (
        metric(held, "background_job_items_total", **sweeps) + 1
    )
    assert metric(after, "background_job_runs_total", **sweeps, outcome="ok") > metric(
        held, "background_job_runs_total", **sweeps, outcome="ok"
    )
    assert (
        metric(after, "ticket_holds", state="held")
        == metric(held, "ticket_holds", state="held") - 1
    )
    assert metric(after, "ticket_holds", state="overdue") == 0
