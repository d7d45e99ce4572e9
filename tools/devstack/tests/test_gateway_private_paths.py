"""Through the real gateway, `/metrics` and `/internal/*` of the services are not reachable.

Prometheus scrapes each pod directly (deploy/k8s/network-policies.yaml); the gateway has no
route for either, so they fall to its JSON 404 and no service ever sees the request.
"""

from __future__ import annotations

import httpx
import pytest
from devstack.config import StackConfig
from devstack.testing import RecordingUpstream

PRIVATE = [
    "/metrics",
    "/metrics?name[]=http_requests_total",
    "/internal/payments",
    "/internal/payments/ORDER-1",
    "/events/../metrics",
    "/tickets/../internal/payments",
    "//metrics",
    # Encoded dot segments: nginx decodes and merges them before it picks a location.
    "/tickets/%2e%2e/metrics",
    "/events/..%2Fmetrics",
]


@pytest.mark.parametrize("path", PRIVATE)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_private_paths_answer_404_from_the_gateway_and_reach_no_service(
    gateway: StackConfig, upstreams: dict[str, RecordingUpstream], path: str, method: str
) -> None:
    seen_before = {name: len(u.requests) for name, u in upstreams.items()}
    response = httpx.request(method, gateway.gateway_url + path, timeout=5, trust_env=False)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert {name: len(u.requests) for name, u in upstreams.items()} == seen_before
