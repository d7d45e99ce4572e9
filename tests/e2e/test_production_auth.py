"""Production auth: users' RS256 tokens through JWKS, services' own key (issue 11, item 7).

ticket-service and payment-service run as real processes with `JWT_ALGORITHMS=["RS256"]` and a
JWKS served over HTTP from an RSA key made here; the Midtrans sandbox pays. ticket-service opens
payments on payment-service's `/internal/payments` with a service token signed with
SERVICE_TOKEN_SECRET (servicekit.service_tokens), which the identity provider knows nothing of.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric import rsa
from servicekit.service_tokens import issue_service_token
from servicekit.settings import ServiceSettings
from servicekit.testing import ServiceProcess, create_database, free_port, fresh_vhost

ISSUER, AUDIENCE = "https://id.example.test/", "ticketing-api"
SERVER_KEY = f"SB-Mid-server-rs256-{secrets.token_hex(6)}"
SERVICE_TOKEN_SECRET = secrets.token_urlsafe(40)
JWT_SECRET = secrets.token_urlsafe(40)  # HS256 is not accepted in this mode: tokens with it fail


@dataclass
class IdentityProvider:
    """Signs users' tokens with an RSA key; its JWKS is served over HTTP."""

    key: rsa.RSAPrivateKey
    kid: str
    jwks_url: str

    def token(self, sub: str, *roles: str) -> str:
        now = int(time.time())
        claims = {"sub": sub, "roles": list(roles or ("user",)), "iss": ISSUER, "aud": AUDIENCE}
        claims |= {"iat": now, "exp": now + 600}
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})

    def auth(self, sub: str, *roles: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(sub, *roles)}"}


@pytest.fixture(scope="module")
def identity_provider() -> Iterator[IdentityProvider]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = f"test-{uuid.uuid4().hex[:8]}"
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": kid, "use": "sig", "alg": "RS256"}]}).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield IdentityProvider(key, kid, f"http://127.0.0.1:{server.server_port}/jwks.json")
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Rs256Stack:
    ticket_url: str
    payment_url: str
    sandbox_url: str


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def rs256(
    identity_provider: IdentityProvider, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Rs256Stack]:
    logs = tmp_path_factory.mktemp("rs256-logs")
    ticket_db = await create_database("ticket_service_rs256")
    payment_db = await create_database("payment_service_rs256")
    amqp_url = fresh_vhost("rs256")
    ports = {name: free_port() for name in ("ticket", "payment", "sandbox")}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    auth_env = {
        "APP_ENV": "test",
        "JWT_ALGORITHMS": '["RS256"]',
        "JWT_JWKS_URL": identity_provider.jwks_url,
        "JWT_ISSUER": ISSUER,
        "JWT_AUDIENCE": AUDIENCE,
        "JWT_SECRET": JWT_SECRET,
        "SERVICE_TOKEN_SECRET": SERVICE_TOKEN_SECRET,
        "AMQP_URL": amqp_url,
        "REDIS_URL": "redis://127.0.0.1:6379/6",
        "OUTBOX_POLL_SECONDS": "0.05",
    }
    processes = [
        _process(
            ["-m", "midtrans_sandbox", "--port", str(ports["sandbox"])],
            {
                "MIDTRANS_SERVER_KEY": SERVER_KEY,
                "MIDTRANS_NOTIFICATION_URL": f"{urls['payment']}/api/payment/notification",
                "SANDBOX_RETRY_SCALE": "0.001",
            },
            f"{urls['sandbox']}/_sandbox/health",
            logs / "sandbox.log",
        ),
        _process(
            ["-m", "payment_service"],
            {
                **auth_env,
                "HTTP_PORT": str(ports["payment"]),
                "DATABASE_URL": payment_db,
                "MIDTRANS_SERVER_KEY": SERVER_KEY,
                "MIDTRANS_SNAP_BASE_URL": f"{urls['sandbox']}/snap/v1",
                "MIDTRANS_CORE_BASE_URL": urls["sandbox"],
                "MIDTRANS_NOTIFICATION_URL": f"{urls['payment']}/api/payment/notification",
            },
            f"{urls['payment']}/readyz",
            logs / "payment-service.log",
        ),
        _process(
            ["-m", "ticket_service"],
            {
                **auth_env,
                "HTTP_PORT": str(ports["ticket"]),
                "DATABASE_URL": ticket_db,
                "PAYMENT_SERVICE_URL": urls["payment"],
            },
            f"{urls['ticket']}/readyz",
            logs / "ticket-service.log",
        ),
    ]
    try:
        for process in processes:
            await process.start()
        yield Rs256Stack(urls["ticket"], urls["payment"], urls["sandbox"])
    finally:
        for process in reversed(processes):
            process.stop()


def _process(args: list[str], env: dict[str, str], ready: str, log: Path) -> ServiceProcess:
    return ServiceProcess(args, env=env, ready_url=ready, log_path=log)


def _service_headers(secret: str = SERVICE_TOKEN_SECRET) -> dict[str, str]:
    settings = ServiceSettings(service_name="ticket-service", service_token_secret=secret)
    return {"Authorization": f"Bearer {issue_service_token(settings, sub='ticket-service')}"}


async def _eventually_active(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> Any:
    deadline = time.monotonic() + 30
    while True:
        ticket = (await client.get(url, headers=headers)).json()["data"]
        if ticket["status"] == "active" or time.monotonic() > deadline:
            return ticket
        await asyncio.sleep(0.2)


async def test_a_paid_purchase_works_end_to_end_with_rs256_tokens(
    rs256: Rs256Stack, identity_provider: IdentityProvider
) -> None:
    host, user, event_id = f"host-{uuid.uuid4()}", f"user-{uuid.uuid4()}", str(uuid.uuid4())
    async with httpx.AsyncClient(timeout=20) as client:
        event = await client.put(
            f"{rs256.ticket_url}/events/{event_id}",
            json={
                "title": "Jakarta Jazz Night",
                "venue": "Istora Senayan",
                "starts_at": (datetime.now(UTC) + timedelta(days=10)).isoformat(),
                "price": 150_000,
                "capacity": 5,
            },
            headers=identity_provider.auth(host, "host"),
        )
        assert event.status_code == 201, event.text
        bought = await client.post(
            f"{rs256.ticket_url}/tickets/purchase",
            json={
                "event_id": event_id,
                "customer_name": "Siti Rahma",
                "customer_email": "siti@example.id",
                "amount": 150_000,
            },
            headers=identity_provider.auth(user),
        )
        # ticket-service reached payment-service's /internal/payments with its service token.
        assert bought.status_code == 201, bought.text
        ticket = bought.json()["data"]
        order_id = ticket["payment"]["order_id"]
        assert ticket["payment"]["redirect_url"]
        paid = await client.post(
            f"{rs256.sandbox_url}/_sandbox/orders/{order_id}/pay",
            json={"payment_type": "bank_transfer", "bank": "bca", "outcome": "settlement"},
        )
        assert paid.status_code == 200, paid.text
        final = await _eventually_active(
            client, f"{rs256.ticket_url}/tickets/{ticket['id']}", identity_provider.auth(user)
        )
        status = await client.get(
            f"{rs256.payment_url}/api/payment/status/{order_id}",
            headers=identity_provider.auth(user),
        )
    assert final["status"] == "active"
    assert status.status_code == 200 and status.json()["data"]["status"] == "settled"


async def test_users_tokens_are_refused_on_internal_routes_whatever_their_roles(
    rs256: Rs256Stack, identity_provider: IdentityProvider
) -> None:
    hs256_service = jwt.encode(
        {"sub": "ticket-service", "roles": ["service"], "iss": ISSUER, "aud": AUDIENCE,
         "exp": int(time.time()) + 600},
        JWT_SECRET,
        algorithm="HS256",
    )  # fmt: skip
    async with httpx.AsyncClient(timeout=10) as client:
        answers = [
            await client.post(f"{rs256.payment_url}/internal/payments", json={}, headers=headers)
            for headers in (
                identity_provider.auth("mallory", "user", "host", "admin", "service"),
                {"Authorization": f"Bearer {hs256_service}"},
                _service_headers(secret=secrets.token_urlsafe(40)),  # not the services' key
            )
        ]
        with_service_token = await client.post(
            f"{rs256.payment_url}/internal/payments", json={}, headers=_service_headers()
        )
    assert [a.status_code for a in answers] == [401, 401, 401], [a.text for a in answers]
    assert {a.json()["error"]["code"] for a in answers} == {"invalid_service_token"}
    assert with_service_token.status_code == 422  # past auth, refused by the body's schema


async def test_a_service_token_is_refused_on_users_routes(rs256: Rs256Stack) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        mine = await client.get(
            f"{rs256.ticket_url}/tickets/my-tickets", headers=_service_headers()
        )
        status = await client.get(
            f"{rs256.payment_url}/api/payment/status/TIX-1", headers=_service_headers()
        )
    assert (mine.status_code, status.status_code) == (401, 401), (mine.text, status.text)
    assert mine.json()["error"]["code"] == "invalid_token"


async def test_an_hs256_user_token_is_refused_when_only_rs256_is_accepted(
    rs256: Rs256Stack,
) -> None:
    token = jwt.encode(
        {"sub": "user-1", "roles": ["user"], "iss": ISSUER, "aud": AUDIENCE,
         "exp": int(time.time()) + 600},
        JWT_SECRET,
        algorithm="HS256",
    )  # fmt: skip
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(
            f"{rs256.ticket_url}/tickets/my-tickets", headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"
