"""HTTP routes: internal opening, the seed's public endpoints, the webhook.

Refund routes are in refunds_http.py.
"""

import logging
from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, Request, Response
from pydantic import AliasChoices, BaseModel, Field, field_validator
from servicekit.auth import CurrentUser, ServiceCaller
from servicekit.contract import declare, merge
from servicekit.errors import AppError
from ticketing_contracts.internal_payments import (
    ORDER_ID,
    OpenedPayment,
    OpenPaymentRequest,
    check_order_id,
)

from payment_service.domain.model import PaymentStatus
from payment_service.domain.payment import Payment
from payment_service.domain.refunds import Refund
from payment_service.domain.snap import Customer, Item
from payment_service.service_layer import notifications, payments
from payment_service.service_layer.payments import OpenPayment
from payment_service.service_layer.ports import PaymentDeps

logger = logging.getLogger(__name__)

# The part of Midtrans' status answer a client may see (documented in the README). Never the
# signature_key (with a copied signature anyone could forge a notification for the same
# status_code), never merchant_id or Midtrans' internal ids.
MIDTRANS_PUBLIC_FIELDS = (
    "order_id",
    "transaction_status",
    "fraud_status",
    "status_message",
    "payment_type",
    "gross_amount",
    "currency",
    "transaction_time",
    "settlement_time",
    "expiry_time",
    "va_numbers",
    "permata_va_number",
    "biller_code",
    "bill_key",
    "store",
    "payment_code",
    "refund_amount",
)
DECLINED_MESSAGE = "The payment was declined. Try another card or payment method on the same page."
# Failures of the database that pass: Midtrans must retry the notification (503), not drop it.
TRANSIENT_DB_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.LockNotAvailableError,
    asyncpg.exceptions.QueryCanceledError,
    asyncpg.exceptions.CannotConnectNowError,
    OSError,
    TimeoutError,
)


async def payment_deps(request: Request) -> PaymentDeps:
    deps: PaymentDeps = request.app.state.payment_deps
    return deps


PaymentDepsDep = Annotated[PaymentDeps, Depends(payment_deps)]


# ----- internal: ticket-service opens a payment -----


def open_payment_command(body: OpenPaymentRequest) -> OpenPayment:
    return OpenPayment(
        order_id=body.order_id,
        amount=body.amount,
        currency=body.currency,
        customer=Customer(body.customer.name, body.customer.email, body.customer.phone),
        items=[Item(i.id, i.name, i.price, i.quantity) for i in body.items],
        expires_at=body.expires_at,
        user_id=body.metadata.user_id,
        ticket_id=body.metadata.ticket_id,
        event_id=body.metadata.event_id,
        metadata=body.metadata.model_dump(mode="json"),
        purchase_order_id=body.metadata.purchase_order_id,
        ticket_ids=tuple(body.metadata.ticket_ids),
    )


def _opened(payment: Payment) -> OpenedPayment:
    return OpenedPayment(
        order_id=payment.order_id,
        snap_token=payment.snap_token,
        redirect_url=payment.redirect_url,
        expires_at=payment.expires_at,
        status=str(payment.status),
    )


internal = APIRouter(prefix="/internal", tags=["internal"])
_ORDER_OF_ANSWER = {"order_id": "$response.body#/data/order_id"}
OPENED_PAYMENT_LINKS = {
    "PaymentStatus": {
        "operationId": "payment_status_api_payment_status__order_id__get",
        "parameters": _ORDER_OF_ANSWER,
    },
    "RefundOrder": {
        "operationId": "refund_order_api_payment_admin_orders__order_id__refund_post",
        "parameters": _ORDER_OF_ANSWER,
    },
}
"""What a client can do next with an opened payment (OpenAPI links; the fuzzer follows them)."""


@internal.post(
    "/payments",
    status_code=201,
    responses=merge(
        {201: {"description": "Opened.", "links": OPENED_PAYMENT_LINKS}},
        {200: {"description": "Already open for this order_id: the same payment."}},
        {200: {"links": OPENED_PAYMENT_LINKS}},
        declare(409, 502, 503),
    ),
)
async def open_payment(
    body: OpenPaymentRequest, _caller: ServiceCaller, deps: PaymentDepsDep, response: Response
) -> dict[str, Any]:
    result = await payments.open_payment(deps, open_payment_command(body))
    if not result.opened:
        response.status_code = 200
    return {"data": _opened(result.payment).model_dump(mode="json")}


# ----- the seed's public endpoints -----


def _either(name: str, camel: str) -> Any:
    return Field(default=None, validation_alias=AliasChoices(name, camel))


class SnapTokenRequest(BaseModel):
    """The mobile client's body (seed): it may send the amount as a number with decimals.

    The seed's own sample sends camelCase (`orderId`, `customerName`, ...): both are accepted.
    """

    order_id: str = Field(
        validation_alias=AliasChoices("order_id", "orderId"), pattern=ORDER_ID.pattern
    )
    amount: float | int = Field(gt=0, multiple_of=1)
    customer_name: str | None = _either("customer_name", "customerName")
    customer_email: str | None = _either("customer_email", "customerEmail")
    customer_phone: str | None = _either("customer_phone", "customerPhone")
    event_id: str | None = _either("event_id", "eventId")
    user_id: str | None = _either("user_id", "userId")

    _check_order_id = field_validator("order_id")(check_order_id)

    @field_validator("amount")
    @classmethod
    def _whole_rupiah(cls, value: float | int) -> float | int:
        if float(value) != int(value):
            raise ValueError("IDR amounts have no decimals")
        return value


public = APIRouter(prefix="/api/payment", tags=["payment"])

# What the route reads (domain.gateway.parse_notification); the signature covers the strings.
MIDTRANS_NOTIFICATION: dict[str, Any] = {
    "type": "object",
    "required": ["order_id", "status_code", "gross_amount", "signature_key", "transaction_status"],
    "properties": {
        name: {"type": "string"}
        for name in (
            "order_id",
            "status_code",
            "gross_amount",
            "signature_key",
            "transaction_status",
        )
    },
    "additionalProperties": True,
}


@public.post("/create-snap-token", responses=declare(404, 409, 429, 502, 503))
async def create_snap_token(
    body: SnapTokenRequest, user: CurrentUser, deps: PaymentDepsDep
) -> dict[str, Any]:
    payment = await payments.snap_token_for_owner(
        deps,
        order_id=body.order_id,
        amount=int(body.amount),
        caller_id=user.user_id,
        event_id=body.event_id,
        user_id=body.user_id,
    )
    return {
        "data": {
            "token": payment.snap_token,
            "redirect_url": payment.redirect_url,
            "order_id": payment.order_id,
            "expires_at": payment.expires_at.isoformat(),
        }
    }


@public.get("/status/{order_id}", responses=declare(429, 502, 503))
async def payment_status(order_id: str, user: CurrentUser, deps: PaymentDepsDep) -> dict[str, Any]:
    view = await payments.payment_status(
        deps, order_id=order_id, caller_id=user.user_id, caller_is_admin=user.is_admin
    )
    payment = view.payment
    declined = payment.status is PaymentStatus.DENIED
    return {
        "data": {
            "order_id": payment.order_id,
            "status": str(payment.status),
            # A declined card attempt does not end the order: the buyer may retry in Snap.
            "declined": declined,
            "can_retry": declined,
            "message": DECLINED_MESSAGE if declined else None,
            "amount": payment.amount,
            "currency": payment.currency,
            "refunded_amount": payment.refunded_amount,
            "transaction_status": payment.transaction_status,
            "fraud_status": payment.fraud_status,
            "payment_type": payment.payment_type,
            "transaction_id": payment.transaction_id,
            "ticket_id": payment.ticket_id,
            "purchase_order_id": payment.purchase_order_id,
            "ticket_ids": list(payment.tickets),
            "event_id": payment.event_id,
            "expires_at": _iso(payment.expires_at),
            "settled_at": _iso(payment.settled_at),
            "created_at": _iso(payment.created_at),
            "updated_at": _iso(payment.updated_at),
            "midtrans": _midtrans_public(view.midtrans),
            # The buyer sees the order's refunds here too (details: /api/payment/refunds/{id}).
            "refunds": [_order_refund(refund) for refund in view.refunds],
        }
    }


def _order_refund(refund: Refund) -> dict[str, Any]:
    return {
        "refund_id": str(refund.refund_id),
        "amount": refund.amount,
        "method": str(refund.method),
        "status": str(refund.status),
        "reference": refund.payout_reference,
    }


def _midtrans_public(body: dict[str, Any] | None) -> dict[str, Any] | None:
    if body is None:
        return None
    return {name: body[name] for name in MIDTRANS_PUBLIC_FIELDS if name in body}


@public.post(
    "/notification",
    responses=declare(400, 403, 404, 409, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": MIDTRANS_NOTIFICATION}},
        }
    },
)
async def midtrans_notification(request: Request) -> dict[str, Any]:
    """No JWT: the signature is the authentication. Read as raw bytes, never as a model."""
    raw = await request.body()
    remote = request.client.host if request.client else None
    try:
        outcome = await notifications.receive_notification(
            request.app.state.notification_deps, raw, remote_addr=remote
        )
    except TRANSIENT_DB_ERRORS as exc:
        logger.warning("notification deferred: the database failed (%s)", type(exc).__name__)
        raise AppError(
            "The notification could not be recorded now; Midtrans will retry it.",
            code="notification_deferred",
            status_code=503,
        ) from exc
    return {
        "data": {
            "order_id": outcome.order_id,
            "verdict": outcome.verdict,
            "status": str(outcome.status),
        }
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
