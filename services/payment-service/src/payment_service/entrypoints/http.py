"""HTTP routes: internal opening, the seed's public endpoints, the webhook, admin refunds."""

import re
from datetime import datetime
from typing import Annotated, Any, Self

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from servicekit.auth import AdminUser, CurrentUser, ServiceCaller
from servicekit.contract import declare, merge
from servicekit.errors import AppError
from servicekit.fields import AwareDatetime, Email

from payment_service.adapters.repository import Payment, Refund
from payment_service.domain.snap import Customer, Item
from payment_service.service_layer import notifications, payments, refunds
from payment_service.service_layer.payments import Gateway, OpenPayment

ORDER_ID = re.compile(r"^[A-Za-z0-9\-_~.]{1,50}$")


def gateway(request: Request) -> Gateway:
    gw: Gateway = request.app.state.gateway
    return gw


GatewayDep = Annotated[Gateway, Depends(gateway)]


def _order_id(value: str) -> str:
    if not ORDER_ID.fullmatch(value):
        raise ValueError("order_id: up to 50 of A-Z a-z 0-9 - _ ~ .")
    return value


# ----- internal: ticket-service opens a payment -----


class CustomerIn(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    email: Email
    phone: str | None = Field(default=None, max_length=50)


class ItemIn(BaseModel):
    id: str = Field(min_length=1, max_length=255)
    name: str = Field(min_length=1, max_length=50)
    price: int
    quantity: int = Field(ge=1)


class MetadataIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    ticket_id: str = Field(min_length=1)
    event_id: str = Field(min_length=1)
    user_id: str = Field(min_length=1)
    event_title: str | None = None
    event_starts_at: AwareDatetime | None = None


class PaymentCreate(BaseModel):
    order_id: str = Field(pattern=ORDER_ID.pattern)
    amount: int = Field(gt=0)
    currency: str = "IDR"
    customer: CustomerIn
    items: list[ItemIn] = Field(min_length=1)
    expires_at: AwareDatetime
    metadata: MetadataIn

    _check_order_id = field_validator("order_id")(_order_id)

    @field_validator("currency")
    @classmethod
    def _idr_only(cls, value: str) -> str:
        if value != "IDR":
            raise ValueError("only IDR is supported")
        return value

    @model_validator(mode="after")
    def _items_add_up(self) -> Self:
        if sum(i.price * i.quantity for i in self.items) != self.amount:
            raise ValueError("items: price x quantity must add up to amount")
        return self

    def command(self) -> OpenPayment:
        return OpenPayment(
            order_id=self.order_id,
            amount=self.amount,
            currency=self.currency,
            customer=Customer(self.customer.name, self.customer.email, self.customer.phone),
            items=[Item(i.id, i.name, i.price, i.quantity) for i in self.items],
            expires_at=self.expires_at,
            user_id=self.metadata.user_id,
            ticket_id=self.metadata.ticket_id,
            event_id=self.metadata.event_id,
            metadata=self.metadata.model_dump(mode="json"),
        )


def _opened(payment: Payment) -> dict[str, Any]:
    return {
        "order_id": payment.order_id,
        "snap_token": payment.snap_token,
        "redirect_url": payment.redirect_url,
        "expires_at": payment.expires_at.isoformat(),
        "status": str(payment.status),
    }


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
    body: PaymentCreate, _caller: ServiceCaller, gw: GatewayDep, response: Response
) -> dict[str, Any]:
    payment, opened = await payments.open_payment(gw, body.command())
    if not opened:
        response.status_code = 200
    return {"data": _opened(payment)}


# ----- the seed's public endpoints -----


class SnapTokenRequest(BaseModel):
    """The mobile client's body (seed): it may send the amount as a number with decimals."""

    order_id: str = Field(pattern=ORDER_ID.pattern)
    amount: float | int = Field(gt=0, multiple_of=1)
    customer_name: str | None = None
    customer_email: str | None = None
    customer_phone: str | None = None
    event_id: str | None = None
    user_id: str | None = None

    _check_order_id = field_validator("order_id")(_order_id)

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


@public.post("/create-snap-token", responses=declare(404, 409, 502, 503))
async def create_snap_token(
    body: SnapTokenRequest, user: CurrentUser, gw: GatewayDep
) -> dict[str, Any]:
    payment = await payments.snap_token_for_owner(
        gw,
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


@public.get("/status/{order_id}", responses=declare(502, 503))
async def payment_status(order_id: str, user: CurrentUser, gw: GatewayDep) -> dict[str, Any]:
    view = await payments.payment_status(
        gw, order_id=order_id, caller_id=user.user_id, caller_is_admin=user.is_admin
    )
    p = view.payment
    return {
        "data": {
            "order_id": p.order_id,
            "status": str(p.status),
            "amount": p.amount,
            "currency": p.currency,
            "refunded_amount": p.refunded_amount,
            "transaction_status": p.transaction_status,
            "fraud_status": p.fraud_status,
            "payment_type": p.payment_type,
            "transaction_id": p.transaction_id,
            "ticket_id": p.ticket_id,
            "event_id": p.event_id,
            "expires_at": _iso(p.expires_at),
            "settled_at": _iso(p.settled_at),
            "created_at": _iso(p.created_at),
            "updated_at": _iso(p.updated_at),
            "midtrans": view.midtrans,
        }
    }


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
async def midtrans_notification(request: Request, gw: GatewayDep) -> dict[str, Any]:
    """No JWT: the signature is the authentication. Read as raw bytes, never as a model."""
    raw = await request.body()
    remote = request.client.host if request.client else None
    outcome = await notifications.receive_notification(gw, raw, remote_addr=remote)
    return {
        "data": {
            "order_id": outcome.order_id,
            "verdict": outcome.verdict,
            "status": str(outcome.status),
        }
    }


# ----- admin -----


class RefundCreate(BaseModel):
    amount: int | None = Field(default=None, gt=0)
    reason: str = Field(min_length=1, max_length=255)
    request_id: str | None = Field(default=None, max_length=100)


def _refund(r: Refund) -> dict[str, Any]:
    return {
        "refund_key": r.refund_key,
        "order_id": r.order_id,
        "amount": r.amount,
        "reason": r.reason,
        "status": r.status,
        "source": r.source,
        "requested_by": r.requested_by,
        "last_error": r.last_error,
        "created_at": r.created_at.isoformat(),
    }


admin = APIRouter(prefix="/api/payment/admin", tags=["admin"])


@admin.post("/orders/{order_id}/refund", responses=declare(409, 502, 503))
async def refund_order(
    order_id: str, body: RefundCreate, user: AdminUser, gw: GatewayDep
) -> dict[str, Any]:
    refund = await refunds.request_admin_refund(
        gw,
        order_id=order_id,
        amount=body.amount,
        reason=body.reason,
        request_id=body.request_id,
        admin_id=user.user_id,
    )
    if refund.status == "refused":
        raise AppError(
            refund.last_error or "Midtrans refused the refund.",
            code="midtrans_refused",
            status_code=502,
            details={"refund": _refund(refund)},
        )
    return {"data": _refund(refund)}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
