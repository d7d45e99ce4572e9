"""Core API: GET /v2/{id}/status and POST /v2/{id}/cancel|expire|refund|approve|deny (REFERENCE §7).

Ids are order_id or transaction_id. Refusals answer with the HTTP status equal to the body's
status_code; expire answers HTTP 200 with status_code "407", as clients expect it to.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from midtrans_sandbox.api_faults import injected
from midtrans_sandbox.auth import is_authorized
from midtrans_sandbox.payloads import STATUS_FOUND_MESSAGE, transaction_body
from midtrans_sandbox.service import CoreError, Sandbox
from midtrans_sandbox.signature import format_amount
from midtrans_sandbox.state import Transaction

router = APIRouter(prefix="/v2")

UNAUTHORIZED_MESSAGE = "Transaction cannot be authorized with the current client/server key."


def core_error(status_code: int, message: str) -> JSONResponse:
    body: dict[str, Any] = {"status_code": str(status_code), "status_message": message}
    if status_code == 404:
        body["id"] = str(uuid.uuid4())
    return JSONResponse(body, status_code=status_code)


async def _sandbox(request: Request) -> Sandbox | JSONResponse:
    sandbox: Sandbox = request.app.state.sandbox
    failure = await injected(sandbox.api_faults, "core")
    if failure is not None:
        return failure
    if not is_authorized(request.headers.get("authorization"), sandbox.settings.server_key):
        return core_error(401, UNAUTHORIZED_MESSAGE)
    return sandbox


def _answer(sandbox: Sandbox, tx: Transaction, status_code: str, message: str) -> JSONResponse:
    body = transaction_body(
        tx,
        status_code=status_code,
        status_message=message,
        server_key=sandbox.settings.server_key,
        merchant_id=sandbox.settings.merchant_id,
    )
    return JSONResponse(body, status_code=200)


async def _act(
    request: Request,
    act: Callable[[Sandbox], Transaction],
    message: str,
    status_code: str | None = None,
) -> JSONResponse:
    """Authorize, apply `act`, answer with the transaction (or Midtrans' refusal)."""
    sandbox = await _sandbox(request)
    if isinstance(sandbox, JSONResponse):
        return sandbox
    try:
        tx = act(sandbox)
    except CoreError as error:
        return core_error(error.status_code, error.message)
    return _answer(sandbox, tx, status_code or tx.status_api_status_code(), message)


@router.get("/{transaction_id}/status")
async def get_status(transaction_id: str, request: Request) -> JSONResponse:
    return await _act(request, lambda s: s.find(transaction_id), STATUS_FOUND_MESSAGE)


@router.post("/{transaction_id}/cancel")
async def cancel(transaction_id: str, request: Request) -> JSONResponse:
    return await _act(
        request, lambda s: s.cancel(transaction_id), "Success, transaction is canceled", "200"
    )


@router.post("/{transaction_id}/expire")
async def expire(transaction_id: str, request: Request) -> JSONResponse:
    return await _act(
        request, lambda s: s.expire(transaction_id), "Success, transaction has expired", "407"
    )


@router.post("/{transaction_id}/approve")
async def approve(transaction_id: str, request: Request) -> JSONResponse:
    return await _act(
        request, lambda s: s.approve(transaction_id), "Success, transaction is approved", "200"
    )


@router.post("/{transaction_id}/deny")
async def deny(transaction_id: str, request: Request) -> JSONResponse:
    return await _act(
        request, lambda s: s.deny(transaction_id), "Success, transaction is denied", "200"
    )


@router.post("/{transaction_id}/refund")
@router.post("/{transaction_id}/refund/online/direct")
async def refund(transaction_id: str, request: Request) -> JSONResponse:
    sandbox = await _sandbox(request)
    if isinstance(sandbox, JSONResponse):
        return sandbox
    raw = await request.body()
    try:
        params = json.loads(raw) if raw.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        params = None
    if not isinstance(params, dict):
        return core_error(
            413, "The request cannot be processed due to malformed syntax in the request body"
        )
    try:
        result = sandbox.refund(transaction_id, params)
    except CoreError as error:
        return core_error(error.status_code, error.message)
    body = transaction_body(
        result.transaction,
        status_code="200",
        status_message="Success, refund request is approved",
        server_key=sandbox.settings.server_key,
        merchant_id=sandbox.settings.merchant_id,
    )
    body.update(
        {
            "refund_chargeback_id": result.refund.refund_chargeback_id,
            "refund_amount": format_amount(result.refund.amount),
            "refund_key": result.refund.refund_key,
        }
    )
    return JSONResponse(body, status_code=200)
