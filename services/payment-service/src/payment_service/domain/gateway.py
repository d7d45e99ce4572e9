"""Reading what Midtrans sends: signatures, amounts, observations and payment instructions."""

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from payment_service.domain.model import Observation

_REQUIRED = ("order_id", "status_code", "gross_amount", "signature_key", "transaction_status")


class MalformedNotification(ValueError):
    """The body is not JSON, not an object, or lacks a field the signature needs."""


class InvalidSignature(ValueError):
    """signature_key does not match SHA-512(order_id + status_code + gross_amount + key)."""


class InconsistentNotification(ValueError):
    """A signed notification whose fields contradict each other or the order (never applied).

    Midtrans signs only order_id + status_code + gross_amount, not the status: a signature copied
    from a `pending` answer (201) must not carry `settlement` (200).
    """


class AmountTampered(InconsistentNotification):
    """A signed notification whose gross_amount is not the amount we opened the payment for."""


# Which status_code goes with which transaction_status (REFERENCE.md §5). A notification whose
# pair is not listed is refused before anything else. `expire` is 202 in notifications and 407
# from the status API; `cancel` 202 in notifications and 200 from the cancel API.
STATUS_CODES: dict[str, frozenset[str]] = {
    "settlement": frozenset({"200"}),
    "capture": frozenset({"200", "201"}),  # 201 only with fraud_status challenge
    "authorize": frozenset({"200"}),
    "pending": frozenset({"201"}),
    "deny": frozenset({"202"}),
    "cancel": frozenset({"200", "202"}),
    "expire": frozenset({"202", "407"}),
    "failure": frozenset({"202"}),
    "refund": frozenset({"200"}),
    "partial_refund": frozenset({"200"}),
    "chargeback": frozenset({"200"}),
    "partial_chargeback": frozenset({"200"}),
}


@dataclass(frozen=True)
class Notification:
    order_id: str
    status_code: str
    gross_amount: str
    signature_key: str
    transaction_status: str
    body: dict[str, Any]


def parse_notification(raw: bytes) -> Notification:
    """The raw request body as a notification; every field the signature covers is a string."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedNotification("The body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise MalformedNotification("The body is not a JSON object.")
    missing = [name for name in _REQUIRED if not isinstance(body.get(name), str)]
    if missing:
        raise MalformedNotification(f"Missing or non-string fields: {', '.join(missing)}.")
    return Notification(
        order_id=body["order_id"],
        status_code=body["status_code"],
        gross_amount=body["gross_amount"],
        signature_key=body["signature_key"],
        transaction_status=body["transaction_status"],
        body=body,
    )


def expected_signature(order_id: str, status_code: str, gross_amount: str, server_key: str) -> str:
    raw = f"{order_id}{status_code}{gross_amount}{server_key}"
    return hashlib.sha512(raw.encode("utf-8")).hexdigest()


def verify_signature(notification: Notification, server_key: str) -> None:
    """Raise InvalidSignature unless the signature matches; compared in constant time."""
    expected = expected_signature(
        notification.order_id,
        notification.status_code,
        notification.gross_amount,
        server_key,
    )
    if not hmac.compare_digest(expected.encode(), notification.signature_key.encode()):
        raise InvalidSignature("The notification's signature_key is not valid.")


def check_consistency(notification: Notification, *, amount: int, currency: str) -> None:
    """Refuse a notification whose status_code, gross_amount or currency does not fit."""
    status, code = notification.transaction_status, notification.status_code
    allowed = STATUS_CODES.get(status)
    if allowed is not None and code not in allowed:
        raise InconsistentNotification(
            f"status_code {code[:10]} does not fit transaction_status {status[:30]}"
        )
    fraud = notification.body.get("fraud_status")
    if status == "capture" and code == "201" and fraud != "challenge":
        raise InconsistentNotification("status_code 201 on a capture is a challenge only")
    gross = parse_rupiah(notification.gross_amount)
    if gross != amount:
        raise AmountTampered(
            f"gross_amount {notification.gross_amount[:30]} but the payment is {amount}"
        )
    sent_currency = notification.body.get("currency")
    if sent_currency is not None and sent_currency != currency:
        raise InconsistentNotification(f"currency {str(sent_currency)[:10]} but ours is {currency}")


def parse_rupiah(value: object) -> int | None:
    """'150000.00', '150000', 150000 -> 150000; anything with a fraction or not a number -> None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount != amount.to_integral_value():
        return None
    return int(amount)


def observation_from(body: dict[str, Any]) -> Observation:
    """A notification or a Core API answer as an Observation."""
    refunded = parse_rupiah(body.get("refund_amount"))
    if refunded is None:
        refunds = body.get("refunds")
        if isinstance(refunds, list):
            refunded = sum(
                parse_rupiah(r.get("refund_amount")) or 0 for r in refunds if isinstance(r, dict)
            )
    return Observation(
        transaction_status=str(body.get("transaction_status") or ""),
        fraud_status=_text(body.get("fraud_status")),
        refunded_total=refunded or 0,
        settled_before=bool(body.get("settlement_time")),
        payment_type=_text(body.get("payment_type")),
        transaction_id=_text(body.get("transaction_id")),
        status_message=_text(body.get("status_message")),
    )


# Midtrans' status_message of every notification and status answer: it says nothing about why.
_GENERIC_MESSAGES = frozenset(
    {"midtrans payment notification", "success, transaction is found", "success"}
)


def gateway_reason(body: dict[str, Any] | None) -> str | None:
    """Why Midtrans says what it says (a card's channel response, a specific status_message)."""
    body = body or {}
    channel = _text(body.get("channel_response_message"))
    if channel:
        return channel[:255]
    message = _text(body.get("status_message"))
    if message and message.strip().lower() not in _GENERIC_MESSAGES:
        return message[:255]
    return None


def payment_instructions(body: dict[str, Any]) -> dict[str, Any] | None:
    """How to finish an asynchronous payment, in PaymentInstructions' shape; None if nothing."""
    instructions: dict[str, Any] = {}
    vas = body.get("va_numbers")
    if isinstance(vas, list):
        instructions["va_numbers"] = [
            {"bank": str(v.get("bank", "")), "va_number": str(v.get("va_number", ""))}
            for v in vas
            if isinstance(v, dict)
        ]
    for name in ("permata_va_number", "biller_code", "bill_key", "store", "payment_code"):
        value = body.get(name)
        if isinstance(value, str) and value:
            instructions[name] = value
    return instructions or None


_REFUND_KEY_SAFE = re.compile(r"[^A-Za-z0-9_-]")


def refund_key(order_id: str, purpose: str) -> str:
    """A stable refund_key (Midtrans allows [A-Za-z0-9_-]): the same request gives the same key.

    Midtrans treats a repeated key as a retry of the same refund, so a retry never refunds twice.
    """
    digest = hashlib.sha256(f"{order_id}|{purpose}".encode()).hexdigest()[:24]
    prefix = _REFUND_KEY_SAFE.sub("_", order_id)[:40]
    return f"{prefix}-{digest}"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
