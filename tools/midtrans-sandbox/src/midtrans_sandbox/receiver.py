"""A demo notification receiver inside the sandbox, for people trying it without a merchant.

Point MIDTRANS_NOTIFICATION_URL (or X-Override-Notification) at /_sandbox/receiver and
every notification is recorded here with the result of checking its signature.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from midtrans_sandbox.service import Sandbox
from midtrans_sandbox.signature import signature_key

router = APIRouter(prefix="/_sandbox")


@router.post("/receiver")
async def receive(request: Request) -> PlainTextResponse:
    sandbox: Sandbox = request.app.state.sandbox
    raw = await request.body()
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return PlainTextResponse("body is not JSON", status_code=400)
    valid = False
    if isinstance(body, dict):
        order_id, status_code, gross_amount = (
            str(body.get(k, "")) for k in ("order_id", "status_code", "gross_amount")
        )
        expected = signature_key(order_id, status_code, gross_amount, sandbox.settings.server_key)
        valid = body.get("signature_key") == expected
    sandbox.received.append(
        {"received_at": datetime.now(UTC).isoformat(), "signature_valid": valid, "body": body}
    )
    return PlainTextResponse("OK")


@router.get("/receiver")
async def received(request: Request, order_id: str | None = None) -> JSONResponse:
    sandbox: Sandbox = request.app.state.sandbox
    items = [
        r
        for r in sandbox.received
        if order_id is None
        or (isinstance(r["body"], dict) and r["body"].get("order_id") == order_id)
    ]
    return JSONResponse({"received": items})
