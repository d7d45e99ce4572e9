"""payment-service's /metrics on a running process: refunds, reconciler findings, Midtrans calls."""

import asyncio
import time
import uuid

from servicekit.testing import free_port, metric, scrape_metrics


async def test_an_admin_refund_moves_refunds_by_state_and_the_refund_call(stack) -> None:
    order_id = await stack.opened()
    await stack.pay(order_id, "qris", "settlement")
    await stack.wait_status(order_id, "settled")
    before = await scrape_metrics(stack.service_url)
    response = await stack.http.post(
        f"{stack.service_url}/api/payment/admin/orders/{order_id}/refund",
        json={"amount": None, "reason": "event cancelled", "request_id": str(uuid.uuid4())},
        headers=stack.token("admin-1", "admin"),
    )
    assert response.status_code == 200, response.text
    # Midtrans approved it: pending until its final refund notification (payb's refunds).
    assert response.json()["data"]["status"] == "pending"
    deadline = time.monotonic() + 10
    while True:
        after = await scrape_metrics(stack.service_url)
        gained = metric(after, "payment_refunds", status="succeeded") - metric(
            before, "payment_refunds", status="succeeded"
        )
        if gained >= 1 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert gained == 1
    refund_call = {"operation": "core.refund", "outcome": "ok"}
    assert metric(after, "midtrans_api_requests_total", **refund_call) == (
        metric(before, "midtrans_api_requests_total", **refund_call) + 1
    )
    route = {
        "service": "payment-service",
        "method": "POST",
        "route": "/api/payment/admin/orders/{order_id}/refund",
        "status": "200",
    }
    assert metric(after, "http_requests_total", **route) == (
        metric(before, "http_requests_total", **route) + 1
    )


async def test_a_lost_notification_found_by_the_reconciler_is_a_finding(stack) -> None:
    findings = {"verdict": "applied", "to_status": "settled"}
    before = await scrape_metrics(stack.service_url)
    lossy, lossy_url = await stack.replica(
        "lossy-metrics", MIDTRANS_NOTIFICATION_URL=f"http://127.0.0.1:{free_port()}/lost"
    )
    try:
        lossy_before = await scrape_metrics(lossy_url)
        order_id = await stack.opened(service_url=lossy_url)
        await stack.pay(order_id, "qris", "settlement")
        await stack.wait_status(order_id, "settled", timeout=15)
        lossy_after = await scrape_metrics(lossy_url)
    finally:
        lossy.stop()
    # The audit log is shared: any replica reports the finding.
    after = await scrape_metrics(stack.service_url)
    assert metric(after, "payment_reconciler_findings", **findings) >= (
        metric(before, "payment_reconciler_findings", **findings) + 1
    )
    # Whichever replica's reconciler took the payment made the status call and counted it.

    def both(name: str, **labels: str) -> float:
        return (
            metric(after, name, **labels)
            + metric(lossy_after, name, **labels)
            - metric(before, name, **labels)
            - metric(lossy_before, name, **labels)
        )

    assert both("midtrans_api_requests_total", operation="core.status", outcome="ok") >= 1
    checked = {"service": "payment-service", "job_name": "reconcile-pending-payments"}
    assert both("background_job_items_total", **checked) >= 1
