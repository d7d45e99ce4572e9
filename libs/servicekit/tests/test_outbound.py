"""The outbound transport against a real HTTP server: what httpx callers rely on still holds."""

import asyncio
import gzip
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from servicekit.free_ports import free_port
from servicekit.outbound import PooledTransport


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.seen: list[dict[str, Any]] = []
        self.open_now = 0
        self.most_open = 0
        self.lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (the read-timeout test) leaves a broken pipe: expected."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the services answer
    server: _Server

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.server.lock:
            self.server.open_now += 1
            self.server.most_open = max(self.server.most_open, self.server.open_now)
            self.server.seen.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers.items()),
                    "body": body,
                    "peer": self.client_address[1],
                }
            )
        try:
            if self.path.startswith("/slow"):
                time.sleep(0.5)
            payload = json.dumps({"path": self.path, "body": body.decode()}).encode()
            self.send_response(418 if self.path.startswith("/teapot") else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Answer", "yes")
            if self.path.startswith("/gzip"):
                payload = gzip.compress(payload)
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        finally:
            with self.server.lock:
                self.server.open_now -= 1

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()


@pytest.fixture
def server() -> Iterator[_Server]:
    running = _Server(free_port())
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield running
    running.shutdown()
    running.server_close()


def _base(server: _Server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


async def test_requests_and_answers_pass_through_whole(server: _Server) -> None:
    async with httpx.AsyncClient(base_url=_base(server), transport=PooledTransport(4)) as client:
        posted = await client.post(
            "/pay?order=TKT-1&note=a%20b",
            json={"amount": 150_000},
            headers={"Authorization": "Bearer t0ken"},
        )
        teapot = await client.get("/teapot")
        zipped = await client.get("/gzip")
    assert posted.status_code == 200
    assert posted.headers["x-answer"] == "yes"
    assert posted.json() == {"path": "/pay?order=TKT-1&note=a%20b", "body": '{"amount":150000}'}
    first = server.seen[0]
    assert first["method"] == "POST"
    assert first["headers"]["Authorization"] == "Bearer t0ken"
    assert first["headers"]["Content-Type"] == "application/json"
    assert teapot.status_code == 418
    assert zipped.json()["path"] == "/gzip"  # decoded by httpx, as with its own transport


async def test_calls_one_after_another_reuse_one_connection(server: _Server) -> None:
    async with httpx.AsyncClient(base_url=_base(server), transport=PooledTransport(4)) as client:
        for n in range(5):
            assert (await client.get(f"/n{n}")).status_code == 200
    assert len({seen["peer"] for seen in server.seen}) == 1


async def test_no_more_connections_than_the_pool_allows(server: _Server) -> None:
    async with httpx.AsyncClient(base_url=_base(server), transport=PooledTransport(2)) as client:
        answers = await asyncio.gather(*(client.get(f"/slow{n}") for n in range(6)))
    assert [answer.status_code for answer in answers] == [200] * 6
    assert server.most_open == 2
    assert len({seen["peer"] for seen in server.seen}) == 2


async def test_a_slow_answer_is_an_httpx_read_timeout(server: _Server) -> None:
    async with httpx.AsyncClient(
        base_url=_base(server), transport=PooledTransport(2), timeout=httpx.Timeout(0.1)
    ) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/slow")


async def test_nobody_listening_is_an_httpx_connect_error() -> None:
    port = free_port()
    async with httpx.AsyncClient(transport=PooledTransport(2)) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{port}/")


async def test_a_wrapping_transport_can_read_the_raw_body(server: _Server) -> None:
    """As the Midtrans call metrics do: read the answer raw, then hand it on."""

    class Reading(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = PooledTransport(2)

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            answer = await self.inner.handle_async_request(request)
            raw = b"".join([chunk async for chunk in answer.aiter_raw()])
            await answer.aclose()
            return httpx.Response(answer.status_code, headers=answer.headers, content=raw)

        async def aclose(self) -> None:
            await self.inner.aclose()

    async with httpx.AsyncClient(base_url=_base(server), transport=Reading()) as client:
        assert (await client.get("/gzip")).json()["path"] == "/gzip"
