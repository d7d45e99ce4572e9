"""Every call of the Midtrans client is counted by operation and outcome (real HTTP, no mocks)."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import uvicorn
from payment_service.adapters.metrics import CountedTransport
from payment_service.adapters.midtrans import (
    MidtransClient,
    MidtransRefused,
    MidtransUnavailable,
    TransactionNotFound,
)
from prometheus_client import REGISTRY
from servicekit.testing import free_port
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


class Scripted:
    """Answers each call with the next (status, body, delay)."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, Any], float]] = []

    async def handle(self, request: Request) -> JSONResponse:
        status, body, delay = self.script.pop(0)
        await asyncio.sleep(delay)
        return JSONResponse(body, status_code=status)


@pytest_asyncio.fixture(loop_scope="session")
async def midtrans() -> AsyncIterator[tuple[Scripted, str]]:
    scripted = Scripted()
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
    yield
    while _opened:
        await _opened.pop().aclose()


def counted_client(url: str) -> MidtransClient:
    """Counted as payment-service counts: the metrics wrap the kept-alive pool's transport."""
    opened = MidtransClient(
        server_key="SB-Mid-server-abc123cde456",
        snap_base_url=f"{url}/snap/v1",
        core_base_url=url,
        timeout_seconds=0.5,
        connect_timeout_seconds=0.5,
        retries=0,
        wrap_transport=CountedTransport,
    )
    _opened.append(opened)
    return opened


def calls(operation: str, outcome: str) -> float:
    labels = {"operation": operation, "outcome": outcome}
    return REGISTRY.get_sample_value("midtrans_api_requests_total", labels) or 0.0


def timed(operation: str) -> float:
    labels = {"operation": operation}
    return REGISTRY.get_sample_value("midtrans_api_request_duration_seconds_count", labels) or 0.0


OK_STATUS = {"status_code": "201", "transaction_status": "pending", "order_id": "O-1"}


@pytest.mark.parametrize(
    ("answer", "outcome", "error"),
    [
        ((200, OK_STATUS), "ok", None),
        ((200, {"status_code": "407", "transaction_status": "expire"}), "ok", None),
        (
            (404, {"status_code": "404", "status_message": "not found"}),
            "not_found",
            TransactionNotFound,
        ),
        (
            (200, {"status_code": "404", "status_message": "not found"}),
            "not_found",
            TransactionNotFound,
        ),
        ((200, {"status_code": "412", "status_message": "cannot"}), "refused", MidtransRefused),
        ((401, {"status_code": "401", "status_message": "bad key"}), "refused", MidtransRefused),
        ((503, {"status_message": "down"}), "server_error", MidtransUnavailable),
    ],
)
async def test_each_answer_counts_under_its_outcome(
    midtrans: tuple[Scripted, str],
    answer: tuple[int, dict[str, Any]],
    outcome: str,
    error: type[Exception] | None,
) -> None:
    scripted, url = midtrans
    scripted.script = [(answer[0], answer[1], 0.0)]
    before, timed_before = calls("core.status", outcome), timed("core.status")
    client = counted_client(url)
    try:
        if error is None:
            result = await client.status("O-1")
            assert result.body == answer[1]  # the body still reaches the client intact
        else:
            with pytest.raises(error):
                await client.status("O-1")
    finally:
        await client.aclose()
    assert calls("core.status", outcome) == before + 1
    assert timed("core.status") == timed_before + 1


async def test_snap_and_refund_calls_are_named_by_operation_never_by_order(
    midtrans: tuple[Scripted, str],
) -> None:
    scripted, url = midtrans
    scripted.script = [
        (201, {"token": "t", "redirect_url": "https://pay/t"}, 0.0),
        (200, {"status_code": "200", "refund_key": "k"}, 0.0),
    ]
    snap_before, refund_before = calls("snap.create", "ok"), calls("core.refund", "ok")
    client = counted_client(url)
    try:
        await client.create_snap_transaction({"transaction_details": {"order_id": "O-9"}})
        await client.refund("O-9", refund_key="k", amount=1000, reason="test")
    finally:
        await client.aclose()
    assert calls("snap.create", "ok") == snap_before + 1
    assert calls("core.refund", "ok") == refund_before + 1
    families = {m.name for m in REGISTRY.collect()}
    assert "midtrans_api_requests" in families
    assert not any(
        "O-9" in str(s.labels)
        for m in REGISTRY.collect()
        for s in m.samples
        if "midtrans" in m.name
    )


async def test_a_timeout_and_a_refused_connection_are_counted(
    midtrans: tuple[Scripted, str],
) -> None:
    scripted, url = midtrans
    scripted.script = [(200, OK_STATUS, 2.0)]
    before = calls("core.status", "timeout")
    client = counted_client(url)
    try:
        with pytest.raises(MidtransUnavailable):
            await client.status("O-1")
    finally:
        await client.aclose()
    assert calls("core.status", "timeout") == before + 1

    unreachable_before = calls("core.expire", "unreachable")
    closed = counted_client(f"http://127.0.0.1:{free_port()}")
    try:
        with pytest.raises(MidtransUnavailable):
            await closed.expire("O-1")
    finally:
        await closed.aclose()
    assert calls("core.expire", "unreachable") == unreachable_before + 1
