"""The gateway config renders, passes nginx -t, and routes as the contract says (real nginx)."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from devstack.config import StackConfig
from devstack.gateway import TemplateError, check_config, render_gateway, render_template
from devstack.testing import RecordingUpstream


def test_template_placeholders_are_filled_and_nginx_variables_kept() -> None:
    rendered = render_template("listen ${PORT}; set $x $request_id;", {"PORT": "8080"})
    assert rendered == "listen 8080; set $x $request_id;"


def test_template_with_a_missing_value_is_refused() -> None:
    with pytest.raises(TemplateError, match="TICKET_SERVICE_ADDR"):
        render_template("server ${TICKET_SERVICE_ADDR};", {})


def test_rendered_config_passes_nginx_t(tmp_path: Path) -> None:
    config = StackConfig.isolated(tmp_path, label="render_test")
    check_config(config)
    text = (config.nginx_dir / "gateway.conf").read_text()
    assert f"listen 127.0.0.1:{config.gateway_port};" in text
    assert "${" not in text
    assert "${" not in render_gateway(config).read_text()


def _get(config: StackConfig, path: str, **kwargs: object) -> httpx.Response:
    return httpx.get(config.gateway_url + path, timeout=5, trust_env=False, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("path", "upstream"),
    [
        ("/events/42/tickets", "ticket"),
        ("/tickets/my-tickets?limit=5", "ticket"),
        ("/tickets", "ticket"),
        ("/waitlist/offers/7b1c/accept", "ticket"),
        ("/api/payment/status/ORDER-1", "payment"),
        ("/notifications/devices", "notification"),
        ("/notifications?limit=20", "notification"),
        ("/events", "ticket"),
        ("/orders", "ticket"),
        ("/orders/8c0f6f0e-1d1b-4c55-9a57-0c7f7f3e9b21/cancel", "ticket"),
        ("/orders?limit=5", "ticket"),
    ],
)
def test_each_prefix_reaches_its_service_with_path_and_query_intact(
    gateway: StackConfig, upstreams: dict[str, RecordingUpstream], path: str, upstream: str
) -> None:
    response = _get(gateway, path)
    assert response.status_code == 200
    assert response.json() == {"upstream": upstream, "path": path}


def test_health_of_a_service_is_its_readyz(
    gateway: StackConfig, upstreams: dict[str, RecordingUpstream]
) -> None:
    for name, upstream in (("ticket-service", "ticket"), ("payment-service", "payment")):
        response = _get(gateway, f"/_health/{name}")
        assert response.json() == {"upstream": upstream, "path": "/readyz"}


def test_gateway_answers_its_own_health(gateway: StackConfig) -> None:
    response = _get(gateway, "/_gateway/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_unknown_route_is_a_json_404(gateway: StackConfig) -> None:
    response = _get(gateway, "/admin/secret")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_request_id_is_generated_when_absent(
    gateway: StackConfig, upstreams: dict[str, RecordingUpstream]
) -> None:
    response = _get(gateway, "/tickets/1")
    sent = upstreams["ticket"].last().headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", sent)
    assert response.headers["x-request-id"] == sent


def test_client_request_id_is_passed_through(
    gateway: StackConfig, upstreams: dict[str, RecordingUpstream]
) -> None:
    response = _get(gateway, "/tickets/1", headers={"X-Request-ID": "client-abc-123"})
    assert upstreams["ticket"].last().headers["x-request-id"] == "client-abc-123"
    assert response.headers["x-request-id"] == "client-abc-123"


def test_midtrans_webhook_passes_unauthenticated_with_raw_body(
    gateway: StackConfig, upstreams: dict[str, RecordingUpstream]
) -> None:
    raw = b'{"order_id":"ORDER-1", "gross_amount":"10000.00",\n "signature_key":"abc"}  '
    response = httpx.post(
        gateway.gateway_url + "/api/payment/notification",
        content=raw,
        headers={"Content-Type": "application/json"},
        timeout=5,
        trust_env=False,
    )
    assert response.status_code == 200
    seen = upstreams["payment"].last()
    assert (seen.method, seen.path, seen.body) == ("POST", "/api/payment/notification", raw)
    assert "authorization" not in seen.headers


def test_body_over_the_limit_is_refused_with_413(gateway: StackConfig) -> None:
    response = httpx.post(
        gateway.gateway_url + "/tickets/purchase",
        content=b"x" * (1024 * 1024 + 1),
        timeout=5,
        trust_env=False,
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_event_stream_is_not_buffered(gateway: StackConfig) -> None:
    started = time.monotonic()
    with httpx.stream(
        "GET", gateway.gateway_url + "/notifications/stream", timeout=5, trust_env=False
    ) as response:
        chunks = response.iter_raw()
        first = next(chunks)
        first_after = time.monotonic() - started
        rest = b"".join(chunks)
    assert first.startswith(b"data: first")
    assert first_after < 0.5  # the upstream waits 0.6 s before its second event
    assert b"data: second" in first + rest


def test_client_request_id_that_is_not_an_id_is_replaced(
    gateway: StackConfig, upstreams: dict[str, RecordingUpstream]
) -> None:
    _get(gateway, "/tickets/1", headers={"X-Request-ID": "x" * 200})
    assert re.fullmatch(r"[0-9a-f]{32}", upstreams["ticket"].last().headers["x-request-id"])


def _notify(config: StackConfig, body: bytes) -> httpx.Response:
    return httpx.post(
        config.gateway_url + "/api/payment/notification",
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=5,
        trust_env=False,
    )


def test_webhook_body_over_64_kib_is_refused_before_payment_service(
    gateway: StackConfig, upstreams: dict[str, RecordingUpstream]
) -> None:
    before = len(upstreams["payment"].requests)
    response = _notify(gateway, b"{" + b" " * (64 * 1024) + b"}")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert "64 KiB" in response.json()["error"]["message"]
    assert len(upstreams["payment"].requests) == before
    assert _notify(gateway, b"{" + b" " * (60 * 1024) + b"}").status_code == 200


def test_webhook_flood_from_one_source_is_limited_and_other_routes_are_not(
    gateway: StackConfig, upstreams: dict[str, RecordingUpstream]
) -> None:
    time.sleep(0.5)  # let the zone drain what earlier tests sent (200/s)
    before = len(upstreams["payment"].requests)
    flood = 1_500
    # A keep-alive client per thread: one httpx.Client shared by 30 threads can read from a
    # connection another thread has just closed (EBADF).
    local = threading.local()
    clients: list[httpx.Client] = []

    def send(_: int) -> httpx.Response:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=gateway.gateway_url, timeout=10, trust_env=False)
            clients.append(local.client)
        response: httpx.Response = local.client.post("/api/payment/notification", content=b"{}")
        return response

    try:
        with ThreadPoolExecutor(max_workers=30) as pool:
            started = time.monotonic()
            answers = list(pool.map(send, range(flood)))
            took = time.monotonic() - started
    finally:
        for client in clients:
            client.close()
    with httpx.Client(base_url=gateway.gateway_url, timeout=10, trust_env=False) as client:
        other = client.get("/api/payment/status/ORDER-1")
    codes = [a.status_code for a in answers]
    passed = codes.count(200)
    assert codes.count(429) == flood - passed
    # the burst of 500 (a flash sale's settle storm) plus what 200/s refilled while the flood ran
    assert 500 <= passed <= 501 + 200 * took
    assert passed < flood
    reached = [r for r in upstreams["payment"].requests[before:] if r.method == "POST"]
    assert len(reached) == passed
    refused = next(a for a in answers if a.status_code == 429)
    assert refused.json()["error"]["code"] == "rate_limited"
    assert other.status_code == 200  # the limit is the webhook's only
    time.sleep(0.2)
    assert _notify(gateway, b"{}").status_code == 200  # refilled: Midtrans' retry gets through
