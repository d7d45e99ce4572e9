"""Each service's own `/openapi.json` holds against a schema-driven fuzzer (issue 11, item 5).

schemathesis 4 runs with every check and every phase (coverage, fuzzing, stateful) over every
route of ticket-service, payment-service and notification-gateway, each a real process on real
PostgreSQL, RabbitMQ and Redis (the devstack's isolated copy, without the gateway: the contract
is each service's own). Public routes get a user+host+admin token, `/internal/*` a service
token. The run must end with 0 failures.

One documented allowance, per operation, nothing global: `positive_data_acceptance` (a request
the schema allows must not get a 4xx other than 401/403/404/409/429) also admits 422 on the
operations below, because each has a business rule across fields or a signature that JSON
Schema cannot state. Every other check is on, unchanged, everywhere.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from devstack.config import StackConfig
from devstack.preflight import PreflightFailed
from devstack.provision import ProvisionError
from devstack.stack import Stack, StackError
from devstack.token import make_token
from servicekit.service_tokens import issue_service_token
from servicekit.settings import ServiceSettings

SERVICES = ("ticket-service", "payment-service", "notification-gateway")
# Examples per operation and phase. 10 keeps the three runs (~1,500 cases) near 30 s on 2 cores;
# CONTRACT_MAX_EXAMPLES=100 digs deeper by hand.
MAX_EXAMPLES = int(os.environ.get("CONTRACT_MAX_EXAMPLES", "10"))
# Fixed, so `make test` is reproducible; CONTRACT_SEED=<n> explores other cases.
SEED = int(os.environ.get("CONTRACT_SEED", "20261202"))
RUN_TIMEOUT_SECONDS = 240
STATEFUL_MAX_EXAMPLES = int(os.environ.get("CONTRACT_STATEFUL_MAX_EXAMPLES", "5"))

BUSINESS_RULES_BEYOND_JSON_SCHEMA = {
    "ticket-service": {
        "PUT /events/{event_id}": "sales_start before sales_end, and both before starts_at",
        "POST /tickets/check-in": "a QR payload must carry our signature (422 invalid_qr_code)",
        "POST /orders": "one attendee per ticket, each type once, the event's types and promo code",
        "PUT /events/{event_id}/ticket-types/{type_id}": "sales_start before sales_end",
        "PUT /events/{event_id}/quotas/{quota_id}": "the quota's types exist at the event",
        "PUT /events/{event_id}/promo-codes/{code}": "exactly one of percent_off, amount_off",
    },
    "payment-service": {
        "POST /internal/payments": "items' price x quantity must add up to amount",
    },
    "notification-gateway": {},
}
EXPECTED_FOR_VALID_DATA = ["2xx", "3xx", 401, 403, 404, 409, 422, 429, "5xx"]


# The fuzzer's token: user, host and admin. Its own name per run, since the purchase rate limit
# lives in the one Redis every run on this machine shares.
HOST = f"contract-host-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Running:
    config: StackConfig
    known_ids: dict[str, list[str]]


@pytest.fixture(scope="module")
def services() -> Iterator[Running]:
    config = StackConfig.isolated(label="contract")
    system = Stack(config, only=(*SERVICES, "midtrans-sandbox", "mail-sink"), log=lambda _: None)
    try:
        system.up()
    except (PreflightFailed, ProvisionError, StackError) as exc:
        pytest.fail(f"the services did not come up: {exc}", pytrace=False)
    try:
        yield Running(config, _make_known_ids(config))
    finally:
        system.stop()
        shutil.rmtree(config.run_dir, ignore_errors=True)


def _make_known_ids(config: StackConfig) -> dict[str, list[str]]:
    """Real events, tickets, an order and a device, made over HTTP as the fuzzer's user.

    The fuzzer draws path and body ids from these half of the time (random ones otherwise), so
    it reaches the logic behind the 404s. One free event (its ticket is active at once, with a
    QR code) and one paid (its ticket pending, with a Midtrans order).
    """
    auth = {"Authorization": f"Bearer {make_token(config, HOST, ('user', 'host', 'admin'))}"}
    ticket_url = f"http://{config.host}:{config.process('ticket-service').port}"
    ids: dict[str, list[str]] = {"events": [], "tickets": [], "codes": [], "orders": []}
    with httpx.Client(base_url=ticket_url, headers=auth, timeout=20) as client:
        for price in (0, 75_000):
            event_id = str(uuid.uuid4())
            event = client.put(
                f"/events/{event_id}",
                json={
                    "title": "Contract Night",
                    "venue": "Jakarta",
                    "starts_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
                    "price": price,
                    "capacity": 1000,
                },
            )
            assert event.status_code == 201, event.text
            bought = client.post(
                "/tickets/purchase",
                json={"event_id": event_id, "customer_name": "Siti", "customer_email": "s@x.id"},
            )
            assert bought.status_code in (200, 201), bought.text
            ticket = bought.json()["data"]
            ids["events"].append(event_id)
            ids["tickets"].append(ticket["id"])
            ids["codes"].append(ticket["attendance_code"])
            if ticket.get("payment"):
                ids["orders"].append(ticket["payment"]["order_id"])
    notification_url = f"http://{config.host}:{config.process('notification-gateway').port}"
    device = f"contract-{uuid.uuid4().hex}"
    registered = httpx.post(
        f"{notification_url}/notifications/devices", json={"token": device}, headers=auth
    )
    assert registered.status_code == 201, registered.text
    ids["devices"] = [device]
    assert all(ids.values()), ids
    return ids


def _schemathesis() -> list[str]:
    beside = Path(sys.executable).with_name("schemathesis")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("schemathesis")
    if found is None:
        pytest.fail("schemathesis is not installed (requirements-dev.txt)", pytrace=False)
    return [found]


KNOWN_ID_PARAMETERS = {
    "path.event_id": "events",
    "body.event_id": "events",
    "path.ticket_id": "tickets",
    "path.code": "codes",
    "body.attendance_code": "codes",
    "path.order_id": "orders",
    "body.order_id": "orders",
    "path.token": "devices",
}


def _config_file(service: str, path: Path, known_ids: dict[str, list[str]]) -> Path:
    """Per-operation settings: the service token for /internal/*, the SSE stream's read limit,
    the documented 422 allowances; and the known ids, drawn half of the time."""
    service_token = issue_service_token(ServiceSettings(service_name="contract-test"), sub="test")
    lines = [
        # Stateful scenarios chain real calls and generate the heaviest data; fewer of them
        # keep the three runs near their budget (CONTRACT_STATEFUL_MAX_EXAMPLES to dig).
        f"generation.max-examples = {MAX_EXAMPLES}",
        f"phases.stateful.generation.max-examples = {STATEFUL_MAX_EXAMPLES}",
        "",
        "[dictionaries]",
    ]
    lines += [f"{name} = {{ values = {json.dumps(values)} }}" for name, values in known_ids.items()]
    lines += ["", "[parameters]"]
    lines += [
        f'"{key}" = {{ dictionary = "{name}", probability = 0.5 }}'
        for key, name in KNOWN_ID_PARAMETERS.items()
    ]
    lines += [
        "",
        "[[operations]]",
        'include-path-regex = "^/internal/"',
        f'headers = {{ Authorization = "Bearer {service_token}" }}',
        "",
        "[[operations]]",  # an endless text/event-stream: read one event, then let go
        'include-path = "/notifications/stream"',
        "max-stream-events = 1",
        "request-timeout = 3",
    ]
    rules = BUSINESS_RULES_BEYOND_JSON_SCHEMA[service]
    if rules:
        names = ", ".join(f'"{name}"' for name in rules)
        statuses = ", ".join(
            f'"{s}"' if isinstance(s, str) else str(s) for s in EXPECTED_FOR_VALID_DATA
        )
        lines += [
            "",
            "[[operations]]",
            f"include-name = [{names}]",
            f"checks.positive_data_acceptance.expected-statuses = [{statuses}]",
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("service", SERVICES)
def test_the_service_keeps_its_published_contract(
    services: Running, service: str, tmp_path: Path
) -> None:
    port = services.config.process(service).port
    token = make_token(services.config, HOST, ("user", "host", "admin"))
    started = time.monotonic()
    run = subprocess.run(
        [
            *_schemathesis(),
            "--no-color",
            "--config-file",
            str(_config_file(service, tmp_path / "schemathesis.toml", services.known_ids)),
            "run",
            f"http://{services.config.host}:{port}/openapi.json",
            "--checks",
            "all",
            "--seed",
            str(SEED),
            "--request-timeout",
            "10",
            "--workers",
            "1",
            "--header",
            f"Authorization: Bearer {token}",
        ],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
        cwd=tmp_path,
    )
    elapsed = time.monotonic() - started
    output = run.stdout + run.stderr
    if os.environ.get("CONTRACT_OUTPUT_DIR"):  # the whole report, to read by hand
        Path(os.environ["CONTRACT_OUTPUT_DIR"], f"{service}.txt").write_text(output)
    summary = re.search(r"(\d+) generated, (.*)", output)
    print(f"{service}: {summary.group(0) if summary else '?'} in {elapsed:.1f} s")
    assert run.returncode == 0, (
        f"schemathesis found contract failures in {service}:\n{output[-12000:]}"
    )
    assert summary is not None and summary.group(2).strip() == f"{summary.group(1)} passed", output
    phases = output[output.find("Test Phases:") :][:300]
    for phase in ("Coverage", "Fuzzing", "Stateful"):
        assert re.search(rf"✅ {phase}", phases), f"{phase} did not run:\n{phases}"
