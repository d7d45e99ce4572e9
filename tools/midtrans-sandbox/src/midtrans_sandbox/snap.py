"""Snap: POST /snap/v1/transactions, validated the way Midtrans validates it (REFERENCE §2)."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from midtrans_sandbox.api_faults import injected
from midtrans_sandbox.auth import is_authorized
from midtrans_sandbox.clock import parse_midtrans_start_time
from midtrans_sandbox.payment_methods import KNOWN_CHANNELS, methods_for_channels
from midtrans_sandbox.service import OrderIdTaken, Sandbox
from midtrans_sandbox.state import Order

router = APIRouter()

# The docs list alphanumerics and - _ ~ . ; Midtrans also takes spaces and colons (the official
# client's Snap tests send "py-midtransclient-test-2026-12-02 14:05:01" and pass against it).
ORDER_ID_PATTERN = re.compile(r"[A-Za-z0-9\-_~.: ]+")
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PHONE_PATTERN = re.compile(r"\+?[0-9 ()-]+")
UNIT_SECONDS = {
    "minute": 60,
    "minutes": 60,
    "hour": 3600,
    "hours": 3600,
    "day": 86400,
    "days": 86400,
}
DEFAULT_PAGE_EXPIRY = timedelta(hours=24)
MAX_NOTIFICATION_URLS = 3
UNAUTHORIZED = [
    "Access denied due to unauthorized transaction, please check client or server key",
    "Visit https://snap-docs.midtrans.com/#request-headers for more details",
]
CUSTOMER_LIMITS = {"first_name": 255, "last_name": 255, "email": 255, "phone": 19}
ADDRESS_LIMITS = {
    "first_name": 255,
    "last_name": 255,
    "email": 255,
    "phone": 19,
    "address": 255,
    "city": 255,
    "postal_code": 10,
    "country_code": 3,
}


@dataclass(frozen=True, slots=True)
class SnapRequest:
    order_id: str
    gross_amount: int
    enabled_payments: list[str] | None
    finish_url: str | None
    expiry_deadline: datetime | None
    expiry_duration_seconds: int | None
    page_expiry: timedelta
    custom_fields: dict[str, str]


def snap_errors(messages: list[str], status: int = 400) -> JSONResponse:
    return JSONResponse({"error_messages": messages}, status_code=status)


@router.post("/snap/v1/transactions")
async def create_transaction(request: Request) -> JSONResponse:
    sandbox: Sandbox = request.app.state.sandbox
    failure = await injected(sandbox.api_faults, "snap")
    if failure is not None:
        return failure
    if not is_authorized(request.headers.get("authorization"), sandbox.settings.server_key):
        return snap_errors(UNAUTHORIZED, 401)
    try:
        body = json.loads(await request.body() or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return snap_errors(["Request body is not a valid JSON"])
    now = sandbox.clock.now()
    parsed, errors = validate_snap_request(body, now=now)
    if parsed is None:
        return snap_errors(errors)
    order = Order(
        order_id=parsed.order_id,
        gross_amount=parsed.gross_amount,
        token=str(uuid.uuid4()),
        created_at=now,
        token_expires_at=now + parsed.page_expiry,
        request=body,
        enabled_payments=parsed.enabled_payments,
        finish_url=parsed.finish_url,
        expiry_deadline=parsed.expiry_deadline,
        expiry_duration_seconds=parsed.expiry_duration_seconds,
        notification_urls=notification_urls(
            default=sandbox.settings.notification_url,
            override=request.headers.get("x-override-notification"),
            append=request.headers.get("x-append-notification"),
        ),
        custom_fields=parsed.custom_fields,
    )
    try:
        sandbox.create_order(order)
    except OrderIdTaken:
        return snap_errors(["transaction_details.order_id has already been taken"])
    base = sandbox.settings.public_url or str(request.base_url)
    redirect_url = f"{base.rstrip('/')}/snap/v3/redirection/{order.token}"
    return JSONResponse({"token": order.token, "redirect_url": redirect_url}, status_code=201)


def notification_urls(*, default: str, override: str | None, append: str | None) -> list[str]:
    """X-Override-Notification replaces the configured URL; X-Append-Notification adds to it."""
    overriding = _url_list(override or "")
    if overriding:
        return overriding
    urls = [default] if default else []
    if append and append.strip():
        urls += [u for u in _url_list(append) if u not in urls]
    return urls


def _url_list(header: str) -> list[str]:
    urls = [u.strip() for u in header.split(",") if u.strip()]
    return [u for u in urls if urlsplit(u).scheme in {"http", "https"}][:MAX_NOTIFICATION_URLS]


def validate_snap_request(body: object, *, now: datetime) -> tuple[SnapRequest | None, list[str]]:
    errors: list[str] = []
    if not isinstance(body, dict):
        body = {}
    details = body.get("transaction_details")
    if not isinstance(details, dict):
        details = {}
    order_id = _order_id(details.get("order_id"), errors)
    gross_amount = _gross_amount(details.get("gross_amount"), errors)
    item_total = _item_details(body.get("item_details"), errors)
    if gross_amount is not None and item_total is not None and item_total != gross_amount:
        errors.append("transaction_details.gross_amount is not equal to the sum of item_details")
    _customer_details(body.get("customer_details"), errors)
    enabled = _enabled_payments(body.get("enabled_payments"), errors)
    finish_url = _finish_url(body.get("callbacks"), errors)
    deadline, duration = _expiry(body.get("expiry"), errors)
    page_expiry = _page_expiry(body.get("page_expiry"), errors)
    custom_fields = _custom_fields(body, errors)
    if errors or order_id is None or gross_amount is None:
        return None, errors
    if deadline is not None and deadline <= now:
        return None, ["expiry.start_time plus expiry.duration is already in the past"]
    return (
        SnapRequest(
            order_id=order_id,
            gross_amount=gross_amount,
            enabled_payments=enabled,
            finish_url=finish_url,
            expiry_deadline=deadline,
            expiry_duration_seconds=duration,
            page_expiry=page_expiry,
            custom_fields=custom_fields,
        ),
        [],
    )


def _integer(value: object) -> int | None:
    """Midtrans takes IDR amounts as integers; integral JSON numbers and digit strings pass."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+(\.0+)?", value.strip()):
        return int(float(value))
    return None


def _order_id(value: object, errors: list[str]) -> str | None:
    if value is None or value == "":
        errors.append("transaction_details.order_id is required")
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        errors.append("transaction_details.order_id must be a string")
        return None
    if len(value) > 50:
        errors.append("transaction_details.order_id too long")
        return None
    if not ORDER_ID_PATTERN.fullmatch(value):
        errors.append(
            "transaction_details.order_id contains invalid characters, "
            "only alphanumeric, dash (-), underscore (_), tilde (~), dot (.), colon (:) "
            "and space are allowed"
        )
        return None
    return value


def _gross_amount(value: object, errors: list[str]) -> int | None:
    if value is None or value == "":
        errors.append("transaction_details.gross_amount is required")
        return None
    if isinstance(value, float | int | str) and not isinstance(value, bool):
        amount = _integer(value)
        if amount is None:
            try:
                float(value)
            except ValueError:
                errors.append("transaction_details.gross_amount is not a number")
                return None
            errors.append(
                "transaction_details.gross_amount must be an integer (IDR has no decimals)"
            )
            return None
    else:
        errors.append("transaction_details.gross_amount is not a number")
        return None
    if amount <= 0:
        errors.append("transaction_details.gross_amount must be greater than or equal to 0.01")
        return None
    return amount


def _item_details(value: object, errors: list[str]) -> int | None:
    if value is None:
        return None
    if not isinstance(value, list):
        errors.append("item_details must be an array")
        return None
    total = 0
    complete = True
    for item in value:
        if not isinstance(item, dict):
            errors.append("item_details must contain objects")
            complete = False
            continue
        price = _integer(item.get("price"))
        quantity = _integer(item.get("quantity"))
        if item.get("price") is None:
            errors.append("item_details Price is required")
        elif price is None:
            errors.append("item_details Price must be an integer")
        if item.get("quantity") is None:
            errors.append("item_details Quantity is required")
        elif quantity is None or quantity < 1:
            errors.append("item_details Quantity must be greater than or equal to 1")
        name = item.get("name")
        if not isinstance(name, str) or not name:
            errors.append("item_details Name is required")
        elif len(name) > 50:
            errors.append("item_details Name too long")
        item_id = item.get("id")
        if item_id is not None and len(str(item_id)) > 50:
            errors.append("item_details Id too long")
        if price is None or quantity is None:
            complete = False
        else:
            total += price * quantity
    return total if complete else None


def _customer_details(value: object, errors: list[str]) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        errors.append("customer_details must be an object")
        return
    _limited_fields(value, CUSTOMER_LIMITS, "customer_details", errors)
    for part in ("billing_address", "shipping_address"):
        address = value.get(part)
        if address is None:
            continue
        if not isinstance(address, dict):
            errors.append(f"customer_details.{part} must be an object")
            continue
        _limited_fields(address, ADDRESS_LIMITS, f"customer_details.{part}", errors)


def _limited_fields(
    value: dict[str, Any], limits: dict[str, int], prefix: str, errors: list[str]
) -> None:
    for name, limit in limits.items():
        field = value.get(name)
        if field is None:
            continue
        if not isinstance(field, str | int) or isinstance(field, bool):
            errors.append(f"{prefix}.{name} must be a string")
            continue
        text = str(field)
        if len(text) > limit:
            errors.append(f"{prefix}.{name} too long")
        elif name == "email" and text and not EMAIL_PATTERN.fullmatch(text):
            errors.append(f"{prefix}.email format is invalid")
        elif name == "phone" and text and not PHONE_PATTERN.fullmatch(text):
            errors.append(f"{prefix}.phone format is invalid")


def _enabled_payments(value: object, errors: list[str]) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.append("enabled_payments must be an array of strings")
        return None
    unknown = [v for v in value if v not in KNOWN_CHANNELS]
    if unknown:
        errors.append(f"enabled_payments contains unknown payment channel: {', '.join(unknown)}")
        return None
    if value and not methods_for_channels(value):
        errors.append("enabled_payments: none of these payment channels is available")
        return None
    return list(value) or None


def _finish_url(value: object, errors: list[str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.append("callbacks must be an object")
        return None
    finish = value.get("finish")
    if finish is None:
        return None
    if not isinstance(finish, str) or not urlsplit(finish).scheme:
        errors.append("callbacks.finish must be a valid URL")
        return None
    return finish


def _duration(value: dict[str, Any], prefix: str, errors: list[str]) -> int | None:
    unit = value.get("unit")
    duration = _integer(value.get("duration"))
    if not isinstance(unit, str) or unit.lower() not in UNIT_SECONDS:
        errors.append(f"{prefix}.unit must be one of day, hour, minute")
        return None
    if duration is None or duration <= 0:
        errors.append(f"{prefix}.duration must be a positive integer")
        return None
    return duration * UNIT_SECONDS[unit.lower()]


def _expiry(value: object, errors: list[str]) -> tuple[datetime | None, int | None]:
    if value is None:
        return None, None
    if not isinstance(value, dict):
        errors.append("expiry must be an object")
        return None, None
    seconds = _duration(value, "expiry", errors)
    start_text = value.get("start_time")
    start: datetime | None = None
    if start_text is not None:
        try:
            start = parse_midtrans_start_time(str(start_text))
        except ValueError:
            errors.append("expiry.start_time must be formatted as yyyy-MM-dd HH:mm:ss Z")
            return None, None
    if seconds is None:
        return None, None
    if start is None:
        return None, seconds
    return start + timedelta(seconds=seconds), None


def _page_expiry(value: object, errors: list[str]) -> timedelta:
    if value is None:
        return DEFAULT_PAGE_EXPIRY
    if not isinstance(value, dict):
        errors.append("page_expiry must be an object")
        return DEFAULT_PAGE_EXPIRY
    seconds = _duration(value, "page_expiry", errors)
    return DEFAULT_PAGE_EXPIRY if seconds is None else timedelta(seconds=seconds)


def _custom_fields(body: dict[str, Any], errors: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name in ("custom_field1", "custom_field2", "custom_field3"):
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            errors.append(f"{name} must be a string")
        elif len(value) > 255:
            errors.append(f"{name} too long")
        else:
            fields[name] = value
    return fields
