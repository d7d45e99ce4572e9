"""GET /metrics: the sandbox's HTTP figures per route and what its store holds move with calls."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def scrape(sandbox) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = sandbox.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


SNAP = {"service": "midtrans-sandbox", "method": "POST", "route": "/snap/v1/transactions"}


def test_snap_calls_payments_and_notifications_move_the_figures(sandbox, hook, eventually):
    before = scrape(sandbox)
    order_id, _ = sandbox.create(hook=hook)
    assert value(scrape(sandbox), "http_requests_total", **SNAP, status="201") == (
        value(before, "http_requests_total", **SNAP, status="201") + 1
    )
    assert sandbox.pay(order_id).status_code == 200
    after = scrape(sandbox)
    assert value(after, "midtrans_sandbox_transactions", status="settlement") == 1
    assert value(after, "midtrans_sandbox_transactions", status="pending") == 0
    eventually(
        lambda: (
            value(scrape(sandbox), "midtrans_sandbox_notification_attempts", outcome="delivered")
            >= 1
        )
    )


def test_raw_order_ids_never_become_labels(sandbox):
    order_id, _ = sandbox.create(order_id="order-label-check")
    sandbox.http.get(f"/v2/{order_id}/status", headers=sandbox.headers())
    samples = scrape(sandbox)
    assert not any("order-label-check" in str(key) for key in samples)
    route = {"service": "midtrans-sandbox", "method": "GET", "route": "/v2/{transaction_id}/status"}
    # No transaction yet (nobody paid): Midtrans' 404, under the route template.
    assert value(samples, "http_requests_total", **route, status="404") >= 1
