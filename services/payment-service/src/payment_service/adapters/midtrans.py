"""The Midtrans HTTP client (Snap and Core API) over httpx, with Basic auth and timeouts.

Only idempotent calls are retried: the status query, and refunds, which carry a refund_key.
Snap creation, cancel and expire are made once; the caller decides what a failure means.
The server key lives only in the client's auth; it is registered as a log secret.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
from servicekit.jsoncodec import loads
from servicekit.logs import log_fields
from servicekit.outbound import PooledTransport

from payment_service.domain.errors import StatusApiUnavailable
from payment_service.domain.gateway_calls import (
    GatewayAnswer,
    MidtransError,
    MidtransRefused,
    MidtransUnavailable,
    SnapToken,
    TransactionNotFound,
)

logger = logging.getLogger(__name__)
# Midtrans answers in a few hundred milliseconds: 64 calls at once carry a flash sale's Snap
# tokens and a settle storm's status checks; more calls wait in the pool's queue.
MIDTRANS_CONNECTIONS = 64


class MidtransClient:
    def __init__(
        self,
        *,
        server_key: str,
        snap_base_url: str,
        core_base_url: str,
        timeout_seconds: float,
        connect_timeout_seconds: float,
        retries: int,
        notification_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        wrap_transport: Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport]
        | None = None,
    ) -> None:
        """`wrap_transport` (the call metrics) wraps the kept-alive pool's own transport."""
        self._snap_base = snap_base_url.rstrip("/")
        self._core_base = core_base_url.rstrip("/")
        self._retries = retries
        self._notification_url = notification_url
        if transport is None:
            pooled = PooledTransport(MIDTRANS_CONNECTIONS)
            transport = wrap_transport(pooled) if wrap_transport is not None else pooled
        self._http = httpx.AsyncClient(
            auth=httpx.BasicAuth(server_key, ""),
            timeout=httpx.Timeout(timeout_seconds, connect=connect_timeout_seconds),
            headers={
                "Accept": "application/json",
                "Content-Type": "application/json",
                "User-Agent": "ticketing-payment-service/1.0",
            },
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def create_snap_transaction(self, body: dict[str, Any]) -> SnapToken:
        headers = {}
        if self._notification_url:
            headers["X-Override-Notification"] = self._notification_url
        answer = await self._call(
            "snap.create", "POST", f"{self._snap_base}/transactions", body, headers, retries=0
        )
        data = answer.body or {}
        token, redirect = data.get("token"), data.get("redirect_url")
        if not isinstance(token, str) or not isinstance(redirect, str):
            raise MidtransUnavailable("Midtrans answered Snap without a token.", answer)
        return SnapToken(token=token, redirect_url=redirect, answer=answer)

    async def status(self, transaction_id: str) -> GatewayAnswer:
        return await self._core("status", "GET", transaction_id, retries=self._retries)

    async def cancel(self, transaction_id: str) -> GatewayAnswer:
        return await self._core("cancel", "POST", transaction_id, retries=0)

    async def expire(self, transaction_id: str) -> GatewayAnswer:
        return await self._core("expire", "POST", transaction_id, retries=0)

    async def refund(
        self, transaction_id: str, *, refund_key: str, amount: int, reason: str
    ) -> GatewayAnswer:
        body = {"refund_key": refund_key, "amount": amount, "reason": reason[:255]}
        return await self._core("refund", "POST", transaction_id, body=body, retries=self._retries)

    async def _core(
        self,
        action: str,
        method: str,
        transaction_id: str,
        *,
        body: dict[str, Any] | None = None,
        retries: int,
    ) -> GatewayAnswer:
        url = f"{self._core_base}/v2/{quote(transaction_id, safe='')}/{action}"
        answer = await self._call(f"core.{action}", method, url, body, {}, retries=retries)
        code = (answer.body or {}).get("status_code")
        # Core API errors may come as HTTP 200 with a 4xx status_code in the body; 407 is
        # the normal answer for an expired transaction.
        if isinstance(code, str) and code.isdigit() and int(code) >= 400 and code != "407":
            raise _refusal(answer)
        return answer

    async def _call(
        self,
        operation: str,
        method: str,
        url: str,
        body: dict[str, Any] | None,
        headers: dict[str, str],
        *,
        retries: int,
    ) -> GatewayAnswer:
        attempt = 0
        while True:
            answer = await self._once(operation, method, url, body, headers)
            try:
                return _checked(answer)
            except MidtransUnavailable:
                if attempt >= retries:
                    raise
                attempt += 1
                await asyncio.sleep(min(0.2 * 2**attempt, 2.0))

    async def _once(
        self,
        operation: str,
        method: str,
        url: str,
        body: dict[str, Any] | None,
        headers: dict[str, str],
    ) -> GatewayAnswer:
        started = time.perf_counter()
        try:
            response = await self._http.request(method, url, json=body, headers=headers)
        except httpx.TimeoutException:
            answer = GatewayAnswer(operation, None, None, _ms(started), "timeout")
        except httpx.HTTPError as exc:
            answer = GatewayAnswer(operation, None, None, _ms(started), type(exc).__name__)
        else:
            answer = GatewayAnswer(
                operation, response.status_code, _json_object(response), _ms(started)
            )
        logger.info(
            "midtrans %s answered %s",
            operation,
            answer.http_status or answer.error,
            extra=log_fields(
                operation=operation, http_status=answer.http_status, duration_ms=answer.duration_ms
            ),
        )
        return answer


def _checked(answer: GatewayAnswer) -> GatewayAnswer:
    if answer.http_status is None:
        raise MidtransUnavailable(f"Midtrans could not be reached ({answer.error}).", answer)
    if answer.http_status >= 500:
        raise MidtransUnavailable(f"Midtrans answered HTTP {answer.http_status}.", answer)
    if answer.http_status >= 400:
        raise _refusal(answer)
    if answer.body is None:
        raise MidtransUnavailable("Midtrans answered without a JSON body.", answer)
    return answer


def _refusal(answer: GatewayAnswer) -> MidtransError:
    body = answer.body or {}
    messages = body.get("error_messages")
    if isinstance(messages, list) and messages:
        text = "; ".join(str(m) for m in messages)
    else:
        text = str(body.get("status_message") or f"HTTP {answer.http_status}")
    code = body.get("status_code")
    if answer.http_status == 404 or code == "404":
        return TransactionNotFound(f"Midtrans: {text}", answer)
    if code in {"500", "502", "503", "504"}:
        return MidtransUnavailable(f"Midtrans: {text}", answer)
    error = MidtransRefused(f"Midtrans refused the request: {text}", answer)
    if isinstance(messages, list):
        error.details["error_messages"] = [str(m) for m in messages]
    return error


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        data = loads(response.content)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


class MidtransStatusApi:
    """The notification path's status API: Midtrans' answer, None if it has no such order."""

    def __init__(self, client: MidtransClient) -> None:
        self._client = client

    async def status(self, order_id: str) -> dict[str, Any] | None:
        try:
            answer = await self._client.status(order_id)
        except TransactionNotFound:
            return None
        except MidtransError as exc:
            raise StatusApiUnavailable(str(exc)) from exc
        return answer.body


__all__ = [
    "GatewayAnswer",
    "MidtransClient",
    "MidtransError",
    "MidtransRefused",
    "MidtransStatusApi",
    "MidtransUnavailable",
    "SnapToken",
    "TransactionNotFound",
]
