"""Control API under /_sandbox/: play the customer, replay notifications, read the log, reset."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from midtrans_sandbox.api_faults import APIS, STATUSES, ApiFault
from midtrans_sandbox.clock import midtrans_time
from midtrans_sandbox.payment_methods import Method, UnknownMethod, method_for
from midtrans_sandbox.service import ControlError, Sandbox
from midtrans_sandbox.signature import format_amount
from midtrans_sandbox.state import Order, Transaction

router = APIRouter(prefix="/_sandbox")


def control_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_object(request: Request) -> dict[str, Any] | None:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def order_view(sandbox: Sandbox, order: Order) -> dict[str, Any]:
    tx = order.transaction
    return {
        "order_id": order.order_id,
        "token": order.token,
        "gross_amount": order.gross_amount,
        "item_details": order.request.get("item_details") or [],
        "enabled_payments": order.enabled_payments,
        "finish_url": order.finish_url,
        "notification_urls": order.notification_urls,
        "token_expires_at": midtrans_time(order.token_expires_at),
        "can_pay_again": order.can_pay_again(),
        "transaction": None if tx is None else transaction_view(tx),
        "attempts": [transaction_view(attempt) for attempt in order.attempts],
    }


def transaction_view(tx: Transaction) -> dict[str, Any]:
    return {
        "transaction_id": tx.transaction_id,
        "payment_type": tx.payment_type,
        "channel": tx.method.channel,
        "transaction_status": str(tx.status),
        "fraud_status": tx.fraud_status,
        "gross_amount": format_amount(tx.gross_amount),
        "expiry_time": None if tx.expiry_time is None else midtrans_time(tx.expiry_time),
        "history": [str(status) for status, _ in tx.history],
        "details": tx.details,
        "refund_amount": format_amount(tx.refunded_amount),
        "refunds": [
            {
                "refund_chargeback_id": r.refund_chargeback_id,
                "kind": r.kind,
                "amount": r.amount,
                "refund_key": r.refund_key,
            }
            for r in tx.refunds
        ],
    }


def _notify_flag(params: dict[str, Any]) -> bool:
    notify = params.get("notify", True)
    if not isinstance(notify, bool):
        raise ControlError(400, "notify must be true or false")
    return notify


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


def parse_method(params: dict[str, Any]) -> Method | None:
    payment_type = params.get("payment_type")
    if payment_type is None:
        return None
    bank = params.get("bank")
    store = params.get("store")
    if not isinstance(payment_type, str) or not all(
        v is None or isinstance(v, str) for v in (bank, store)
    ):
        raise UnknownMethod("payment_type, bank and store must be strings")
    return method_for(payment_type, bank=bank, store=store)


@router.post("/orders/{order_id}/pay")
async def pay(order_id: str, request: Request) -> JSONResponse:
    sandbox: Sandbox = request.app.state.sandbox
    params = await _json_object(request)
    if params is None:
        return control_error(400, "body must be a JSON object")
    try:
        method = parse_method(params)
        outcome = params.get("outcome", "settlement")
        if not isinstance(outcome, str):
            raise ControlError(400, "outcome must be a string")
        sandbox.pay(order_id, method, outcome, notify=_notify_flag(params))
    except UnknownMethod as error:
        return control_error(400, str(error))
    except ControlError as error:
        return control_error(error.http_status, error.message)
    order = sandbox.store.orders[order_id]
    return JSONResponse(order_view(sandbox, order))


@router.post("/orders/{order_id}/dashboard")
async def dashboard_action(order_id: str, request: Request) -> JSONResponse:
    """What the merchant's dashboard or the bank does without an API call of the merchant."""
    sandbox: Sandbox = request.app.state.sandbox
    params = await _json_object(request)
    if params is None:
        return control_error(400, "body must be a JSON object")
    action = params.get("action")
    amount = params.get("amount")
    try:
        if not isinstance(action, str):
            raise ControlError(400, "action must be a string")
        if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int)):
            raise ControlError(400, "amount must be an integer (rupiah)")
        sandbox.dashboard(order_id, action, amount, notify=_notify_flag(params))
    except ControlError as error:
        return control_error(error.http_status, error.message)
    return JSONResponse(order_view(sandbox, sandbox.store.orders[order_id]))


@router.get("/orders/{order_id}")
async def get_order(order_id: str, request: Request) -> JSONResponse:
    sandbox: Sandbox = request.app.state.sandbox
    sandbox.expire_due()
    order = sandbox.store.orders.get(order_id)
    if order is None:
        return control_error(404, f"no Snap transaction for order_id {order_id!r}")
    return JSONResponse(order_view(sandbox, order))


@router.post("/orders/{order_id}/replay")
async def replay(order_id: str, request: Request) -> JSONResponse:
    sandbox: Sandbox = request.app.state.sandbox
    params = await _json_object(request)
    if params is None:
        return control_error(400, "body must be a JSON object")
    everything = bool(params.get("all", False))
    shuffle = bool(params.get("shuffle", False))
    replayed = sandbox.notifier.replay(order_id, everything=everything, shuffle=shuffle)
    if not replayed:
        return control_error(404, f"no notification has been sent for order_id {order_id!r}")
    return JSONResponse({"order_id": order_id, "replayed": replayed})


@router.get("/notifications")
async def notifications(request: Request, order_id: str | None = None) -> JSONResponse:
    sandbox: Sandbox = request.app.state.sandbox
    sent = (
        sandbox.notifier.sent.get(order_id, [])
        if order_id is not None
        else [s for group in sandbox.notifier.sent.values() for s in group]
    )
    return JSONResponse(
        {
            "notifications": [
                {
                    "notification_id": s.notification_id,
                    "order_id": s.order_id,
                    "urls": s.urls,
                    "body": s.body,
                    "created_at": s.created_at.isoformat(),
                }
                for s in sent
            ],
            "attempts": sandbox.notifier.log(order_id),
            "in_flight": sandbox.notifier.in_flight(order_id),
        }
    )


@router.post("/reset")
async def reset(request: Request) -> JSONResponse:
    sandbox: Sandbox = request.app.state.sandbox
    await sandbox.reset()
    return JSONResponse({"status": "ok"})


@router.get("/faults")
async def get_faults(request: Request) -> JSONResponse:
    sandbox: Sandbox = request.app.state.sandbox
    return JSONResponse({**sandbox.notifier.faults.as_dict(), "api": sandbox.api_faults.pending()})


@router.post("/faults")
async def set_faults(request: Request) -> JSONResponse:
    sandbox: Sandbox = request.app.state.sandbox
    params = await _json_object(request)
    if params is None:
        return control_error(400, "body must be a JSON object")
    faults = sandbox.notifier.faults
    for name in ("duplicate_rate", "delay_rate", "delay_seconds"):
        if name not in params:
            continue
        value = params[name]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            return control_error(400, f"{name} must be a non-negative number")
        if name.endswith("_rate") and value > 1:
            return control_error(400, f"{name} must be between 0 and 1")
        setattr(faults, name, float(value))
    if "seed" in params:
        faults.rng.seed(params["seed"])
    return JSONResponse(faults.as_dict())


@router.post("/faults/api")
async def add_api_faults(request: Request) -> JSONResponse:
    """Make the next `count` Snap or Core calls answer `status` (5xx) and/or answer late."""
    sandbox: Sandbox = request.app.state.sandbox
    params = await _json_object(request)
    if params is None:
        return control_error(400, "body must be a JSON object")
    api = params.get("api")
    status = params.get("status")
    count = params.get("count", 1)
    delay = params.get("delay_seconds", 0)
    if api not in APIS:
        return control_error(400, f"api must be one of {', '.join(APIS)}")
    if status is not None and status not in STATUSES:
        return control_error(400, "status must be 429, a 5xx code, or null")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        return control_error(400, "count must be a positive integer")
    if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
        return control_error(400, "delay_seconds must be a non-negative number")
    if status is None and not delay:
        return control_error(400, "give a status, a delay_seconds, or both")
    sandbox.api_faults.add(api, ApiFault(status, float(delay)), count)
    return JSONResponse(sandbox.api_faults.pending())


@router.post("/clock")
async def advance_clock(request: Request) -> JSONResponse:
    """Move the sandbox's clock forward so expiries fall due without waiting."""
    sandbox: Sandbox = request.app.state.sandbox
    params = await _json_object(request)
    seconds = None if params is None else params.get("advance_seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        return control_error(400, "advance_seconds must be a non-negative number")
    sandbox.clock.advance(float(seconds))
    expired = sandbox.expire_due()
    return JSONResponse(
        {
            "now": midtrans_time(sandbox.clock.now()),
            "offset_seconds": sandbox.clock.offset_seconds,
            "expired": expired,
        }
    )
