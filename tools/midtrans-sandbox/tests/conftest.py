"""Fixtures: the sandbox on a real socket (uvicorn in a thread) and a real notification receiver."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import uvicorn
from midtrans_sandbox.app import create_app
from midtrans_sandbox.settings import Settings
from servicekit.free_ports import free_port

SERVER_KEY = "SB-Mid-server-test-key-0123456789"
RETRY_SCALE = 0.0001
NOTIFICATION_TIMEOUT = 0.3


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.01) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


class Receiver:
    """A merchant's notification endpoint: records every POST, answers as programmed."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.scripts: dict[str, list[tuple[int, float, dict[str, str]]]] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                raw = self.rfile.read(length)
                with receiver.lock:
                    receiver.requests.append(
                        {
                            "path": self.path,
                            "headers": dict(self.headers.items()),
                            "raw": raw,
                            "body": json.loads(raw) if raw else None,
                            "at": time.monotonic(),
                        }
                    )
                    script = receiver.scripts.get(self.path)
                    status, delay, headers = script.pop(0) if script else (200, 0.0, {})
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"OK")
                except OSError:
                    pass  # the sandbox gave up waiting (a timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def program(
        self, path: str, *responses: int | tuple[int, float] | tuple[int, float, dict[str, str]]
    ) -> None:
        """Answer the next POSTs to path with these statuses (then 200): 500, (503, delay)..."""
        script = []
        for r in responses:
            if isinstance(r, int):
                script.append((r, 0.0, {}))
            elif len(r) == 2:
                script.append((r[0], r[1], {}))
            else:
                script.append(r)
        with self.lock:
            self.scripts[path] = script

    def received(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if r["path"] == path]

    def wait_for(self, path: str, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        wait_until(lambda: len(self.received(path)) >= count, timeout)
        return self.received(path)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SandboxClient:
    """Drives the sandbox over HTTP the way payment-service does."""

    def __init__(self, base: str, receiver: Receiver, settings: Settings) -> None:
        self.base = base
        self.receiver = receiver
        self.settings = settings
        self.server_key = settings.server_key
        token = base64.b64encode(f"{settings.server_key}:".encode()).decode()
        self.auth_header = f"Basic {token}"
        self.http = httpx.Client(base_url=base, timeout=10)

    def headers(self, **extra: str) -> dict[str, str]:
        return {
            "Authorization": self.auth_header,
            "Accept": "application/json",
            "Content-Type": "application/json",
            **extra,
        }

    def snap(self, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.http.post("/snap/v1/transactions", json=body, headers=headers or self.headers())

    def create(
        self,
        order_id: str | None = None,
        amount: int = 10000,
        hook: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> tuple[str, dict[str, Any]]:
        order_id = order_id or f"order-{uuid.uuid4().hex[:12]}"
        body: dict[str, Any] = {
            "transaction_details": {"order_id": order_id, "gross_amount": amount},
            **(extra or {}),
        }
        headers = self.headers()
        if hook is not None:
            headers["X-Override-Notification"] = self.receiver.url(hook)
        response = self.snap(body, headers)
        assert response.status_code == 201, response.text
        return order_id, response.json()

    def pay(
        self,
        order_id: str,
        payment_type: str | None = "bank_transfer",
        outcome: str = "settlement",
        **extra: Any,
    ) -> httpx.Response:
        body: dict[str, Any] = {"outcome": outcome, **extra}
        if payment_type is not None:
            body["payment_type"] = payment_type
        return self.http.post(f"/_sandbox/orders/{order_id}/pay", json=body)

    def core(
        self, method: str, path: str, body: Any = None, auth: str | None = None
    ) -> httpx.Response:
        headers = self.headers()
        if auth is not None:
            headers["Authorization"] = auth
        return self.http.request(method, path, json=body, headers=headers)

    def status(self, order_id: str) -> httpx.Response:
        return self.core("GET", f"/v2/{order_id}/status")

    def log(self, order_id: str) -> dict[str, Any]:
        response = self.http.get("/_sandbox/notifications", params={"order_id": order_id})
        assert response.status_code == 200
        return response.json()

    def settle_deliveries(self, order_id: str, timeout: float = 8.0) -> dict[str, Any]:
        """Wait until no delivery or retry is in flight; return the log."""
        wait_until(lambda: self.log(order_id)["in_flight"] == 0, timeout)
        return self.log(order_id)


def start_sandbox(settings: Settings, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=10)
    return server, thread


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(scope="session")
def sandbox_server(receiver: Receiver) -> Iterator[SandboxClient]:
    port = free_port()
    settings = Settings(
        server_key=SERVER_KEY,
        notification_url=receiver.url("/default"),
        retry_scale=RETRY_SCALE,
        port=port,
        notification_timeout=NOTIFICATION_TIMEOUT,
        sweep_interval=0.05,
        fault_seed=7,
    )
    server, thread = start_sandbox(settings, port)
    client = SandboxClient(f"http://127.0.0.1:{port}", receiver, settings)
    yield client
    client.http.close()
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def sandbox(sandbox_server: SandboxClient) -> SandboxClient:
    response = sandbox_server.http.post("/_sandbox/reset")
    assert response.status_code == 200
    return sandbox_server


@pytest.fixture
def hook() -> str:
    """A notification path of this test's own on the receiver."""
    return f"/hook/{uuid.uuid4().hex}"


@pytest.fixture
def eventually() -> Callable[..., Any]:
    """wait_until(predicate, timeout=5.0): poll until predicate returns something truthy."""
    return wait_until


@pytest.fixture
def signature_of() -> Callable[[dict[str, Any], str], str]:
    """Independent of the sandbox: SHA-512 of order_id + status_code + gross_amount + key."""

    def compute(body: dict[str, Any], server_key: str) -> str:
        raw = body["order_id"] + body["status_code"] + body["gross_amount"] + server_key
        return hashlib.sha512(raw.encode()).hexdigest()

    return compute


@pytest.fixture(scope="session")
def start_sandbox_with() -> Iterator[Callable[..., str]]:
    """Start another sandbox with these settings (e.g. another server key); returns its base URL."""
    started: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(**overrides: Any) -> str:
        port = free_port()
        values: dict[str, Any] = {
            "retry_scale": RETRY_SCALE,
            "notification_timeout": NOTIFICATION_TIMEOUT,
            "notification_url": "",
            **overrides,
            "port": port,
        }
        started.append(start_sandbox(Settings(**values), port))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in started:
        server.should_exit = True
        thread.join(timeout=10)
