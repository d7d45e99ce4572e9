"""The HTTP side: the kept messages as JSON and as a simple page, and the failure controls."""

import html
from typing import Any

from fastapi import FastAPI, HTTPException, Query, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from mail_sink.store import FailureRule, MailStore, ReceivedMessage


class FailureRequest(BaseModel):
    """Answer `code` at DATA for the next `count` messages (only those to `recipient`, if given)."""

    code: int = Field(ge=400, le=599)
    count: int = Field(default=1, ge=1, le=10_000)
    message: str = "Simulated failure"
    recipient: str | None = None


def create_web_app(store: MailStore) -> FastAPI:
    app = FastAPI(title="mail-sink")

    @app.get("/healthz")
    async def alive() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/messages")
    async def list_messages(to: str | None = Query(default=None)) -> dict[str, Any]:
        return {"data": [m.public() for m in store.messages(to)]}

    @app.get("/messages/count")
    async def count_messages(to: str | None = Query(default=None)) -> dict[str, Any]:
        """How many messages were kept (for `to`): cheap to poll while a test waits for mail."""
        return {"data": {"count": store.count(to)}}

    @app.delete("/messages", status_code=204)
    async def clear_messages() -> Response:
        store.clear()
        return Response(status_code=204)

    @app.get("/messages/{message_id}")
    async def one_message(message_id: int) -> dict[str, Any]:
        return {"data": _found(store, message_id).public()}

    @app.get("/messages/{message_id}/raw")
    async def raw_message(message_id: int) -> Response:
        return Response(_found(store, message_id).raw, media_type="message/rfc822")

    @app.get("/messages/{message_id}/parts/{index}")
    async def message_part(message_id: int, index: int) -> Response:
        parts = _found(store, message_id).parts
        if not 0 <= index < len(parts):
            raise HTTPException(404, "no such part")
        return Response(parts[index].payload, media_type=parts[index].content_type)

    @app.get("/messages/{message_id}/html", response_class=HTMLResponse)
    async def message_html(message_id: int) -> str:
        message = _found(store, message_id)
        body = message.html or f"<pre>{html.escape(message.text or '')}</pre>"
        # Show inline images: point cid: references at the part endpoints.
        for i, part in enumerate(message.parts):
            if part.content_id:
                body = body.replace(f"cid:{part.content_id}", f"/messages/{message.id}/parts/{i}")
        return body

    @app.post("/control/failures", status_code=201)
    async def add_failure(request: FailureRequest) -> dict[str, Any]:
        rule = FailureRule(
            code=request.code,
            message=request.message,
            remaining=request.count,
            recipient=request.recipient,
        )
        store.add_failure(rule)
        return {"data": rule.public()}

    @app.get("/control/failures")
    async def list_failures() -> dict[str, Any]:
        return {"data": [rule.public() for rule in store.failures()]}

    @app.delete("/control/failures", status_code=204)
    async def clear_failures() -> Response:
        store.clear_failures()
        return Response(status_code=204)

    @app.get("/", response_class=HTMLResponse)
    async def inbox_page() -> str:
        return render_inbox(store.messages())

    return app


def _found(store: MailStore, message_id: int) -> ReceivedMessage:
    message = store.get(message_id)
    if message is None:
        raise HTTPException(404, "no such message")
    return message


def render_inbox(messages: list[ReceivedMessage]) -> str:
    rows = "".join(
        "<tr>"
        f"<td>{m.id}</td>"
        f"<td>{html.escape(m.received_at.strftime('%Y-%m-%d %H:%M:%S'))} UTC</td>"
        f"<td>{html.escape(', '.join(m.rcpt_tos))}</td>"
        f'<td><a href="/messages/{m.id}/html">{html.escape(m.subject or "(no subject)")}</a></td>'
        f"<td>{len(m.parts)}</td>"
        "</tr>"
        for m in reversed(messages)
    )
    empty = "" if messages else '<tr><td colspan="5">No mail yet.</td></tr>'
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>mail-sink</title>"
        "<meta http-equiv='refresh' content='5'>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}</style></head><body>"
        f"<h1>mail-sink</h1><p>{len(messages)} message(s). "
        "JSON: <a href='/messages'>/messages</a></p>"
        "<table><tr><th>#</th><th>received</th><th>to</th><th>subject</th><th>parts</th></tr>"
        f"{rows}{empty}</table></body></html>"
    )
