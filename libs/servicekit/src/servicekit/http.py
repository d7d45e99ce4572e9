"""HTTP middleware every service shares: request ids, access logs, a body size limit."""

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekit.correlation import new_correlation_id, set_correlation_id
from servicekit.errors import error_body
from servicekit.json_numbers import body_problem, target_problem
from servicekit.logs import log_fields

logger = logging.getLogger("servicekit.access")


class RequestContextMiddleware:
    """Takes X-Request-ID (set by the gateway) as the correlation id, echoes it, logs the request.

    Also refuses bodies over `max_body_bytes` with 413, by Content-Length and while reading.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int = 1_048_576) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        request_id = (
            headers.get(b"x-request-id", b"").decode("latin-1")[:128] or new_correlation_id()
        )
        set_correlation_id(request_id)
        started = time.perf_counter()
        status = 500

        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await _too_large(send, request_id, self.max_body_bytes)
            return

        # Bodies are small (JSON, webhooks): read it whole, refuse it past the limit, replay it.
        body, complete = await _read_body(receive, self.max_body_bytes)
        if not complete:
            await _too_large(send, request_id, self.max_body_bytes)
            return
        problem = target_problem(
            scope.get("raw_path") or scope["path"].encode(), scope.get("query_string", b"")
        )
        where = "request"
        if problem is None:
            problem, where = body_problem(body, headers.get(b"content-type", b"")), "body"
        if problem is not None:
            await _refuse(send, request_id, 422, "validation_error", f"{where}: {problem}")
            return
        replayed = False

        async def replay_receive() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, replay_receive, send_with_id)
        finally:
            if scope["path"] not in ("/healthz", "/readyz"):
                logger.info(
                    "%s %s %s",
                    scope["method"],
                    scope["path"],
                    status,
                    extra=log_fields(
                        status=status, duration_ms=round((time.perf_counter() - started) * 1000, 1)
                    ),
                )


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The request body, and False if it grew past `limit` (reading stops there)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), True
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", False
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True


async def _too_large(send: Send, request_id: str, limit: int) -> None:
    await _refuse(
        send, request_id, 413, "payload_too_large", f"The body is larger than {limit} bytes."
    )


async def _refuse(send: Send, request_id: str, status: int, code: str, message: str) -> None:
    import json

    body = json.dumps(error_body(code, message)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
