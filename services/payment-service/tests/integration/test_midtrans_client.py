"""The Midtrans client against a real HTTP server that misbehaves on purpose (no mocks)."""

import asyncio
import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import uvicorn
from payment_service.adapters.midtrans import (
    MidtransClient,
    MidtransRefused,
    MidtransUnavailable,
    TransactionNotFound,
)
from servicekit.testing import free_port
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


class ScriptedMidtrans:
    """Answers each call with the next scripted (status, body, delay); the last one repeats."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, Any], float]] = []
        self.calls: list[tuple[str, str, str | None]] = []

    async def handle(self, request: Request) -> JSONResponse:
        self.calls.append((request.method, request.url.path, request.headers.get("authorization")))
        status, body, delay = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        await asyncio.sleep(delay)
        return JSONResponse(body, status_code=status)


@pytest_asyncio.fixture(loop_scope="session")
async def midtrans() -> AsyncIterator[tuple[ScriptedMidtrans, str]]:
    scripted = ScriptedMidtrans()
    app = Starlette(routes=[Route("/{path:path}", scripted.handle, methods=["GET", "POST"])])
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    yield scripted, f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


_opened: list[MidtransClient] = []


@pytest_asyncio.fixture(autouse=True, loop_scope="session")
async def close_clients() -> AsyncIterator[None]:
    """Each test's clients close their connection pools, as payment-service does at shutdown."""
    yield
    while _opened:
        await _opened.pop().aclose()


def client(url: str, *, retries: int = 2, timeout: float = 2.0) -> MidtransClient:
    opened = MidtransClient(
        server_key="SB-Mid-server-abc123cde456",
        snap_base_url=f"{url}/snap/v1",
        core_base_url=url,
        timeout_seconds=timeout,
        connect_timeout_seconds=1.0,
        retries=retries,
        notification_url="https://example.id/api/payment/notification",
    )
    _opened.append(opened)
    return opened


FOUND = {"status_code": "200", "transaction_status": "pending", "order_id": "o1"}


async def test_status_is_retried_through_5xx_with_basic_auth(midtrans) -> None:
    scripted, url = midtrans
    scripted.script = [(503, {}, 0), (500, {}, 0), (200, FOUND, 0)]
    answer = await client(url).status("o1")
    assert answer.body == FOUND
    assert len(scripted.calls) == 3
    # The reference's example: base64("SB-Mid-server-abc123cde456:")
    assert scripted.calls[0][2] == "Basic U0ItTWlkLXNlcnZlci1hYmMxMjNjZGU0NTY6"
    assert base64.b64decode(scripted.calls[0][2].split()[1]) == b"SB-Mid-server-abc123cde456:"


async def test_snap_creation_is_never_retried(midtrans) -> None:
    scripted, url = midtrans
    scripted.script = [(503, {"error_messages": ["down"]}, 0), (201, {"token": "t"}, 0)]
    with pytest.raises(MidtransUnavailable):
        await client(url).create_snap_transaction({"transaction_details": {}})
    assert len(scripted.calls) == 1


async def test_a_timeout_is_unavailable_after_the_retries(midtrans) -> None:
    scripted, url = midtrans
    scripted.script = [(200, FOUND, 0.5)]
    with pytest.raises(MidtransUnavailable, match="timeout"):
        await client(url, retries=1, timeout=0.2).status("o1")
    assert len(scripted.calls) == 2


async def test_refusals_are_not_retried_and_keep_midtrans_messages(midtrans) -> None:
    scripted, url = midtrans
    scripted.script = [(400, {"error_messages": ["transaction_details.order_id too long"]}, 0)]
    with pytest.raises(MidtransRefused) as refused:
        await client(url).create_snap_transaction({})
    assert "order_id too long" in str(refused.value)
    assert refused.value.details["error_messages"] == ["transaction_details.order_id too long"]
    scripted.calls.clear()
    # Core API refusals may come as HTTP 200 with a 4xx status_code in the body.
    scripted.script = [(200, {"status_code": "412", "status_message": "Merchant cannot"}, 0)]
    with pytest.raises(MidtransRefused):
        await client(url).refund("o1", refund_key="k", amount=1, reason="r")
    assert len(scripted.calls) == 1


async def test_unknown_transactions_and_expire_answers(midtrans) -> None:
    scripted, url = midtrans
    scripted.script = [
        (404, {"status_code": "404", "status_message": "Transaction doesn't exist."}, 0)
    ]
    with pytest.raises(TransactionNotFound):
        await client(url).status("nobody")
    expired = {"status_code": "407", "transaction_status": "expire"}
    scripted.script = [(200, expired, 0)]
    assert (await client(url).expire("o1")).body == expired


async def test_a_gateway_that_is_not_there_is_unavailable() -> None:
    with pytest.raises(MidtransUnavailable):
        await client(f"http://127.0.0.1:{free_port()}", retries=1).status("o1")
