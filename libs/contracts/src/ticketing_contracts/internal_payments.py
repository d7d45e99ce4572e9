"""The internal ticket→payment API: ticket-service asks payment-service to open an order's payment.

`POST /internal/payments` takes an `OpenPaymentRequest` and answers `{"data": OpenedPayment}`
(201 when opened now, 200 when the order was already open: the call is idempotent by `order_id`).
Both services use these models, so the request and the answer cannot drift apart.
"""

import re
from datetime import datetime
from typing import Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
    model_validator,
)

from ticketing_contracts.fields import AwareDatetime, Email

ORDER_ID = re.compile(r"^[A-Za-z0-9\-_~.]{1,50}$")
"""What Midtrans accepts as an order id."""


def check_order_id(value: str) -> str:
    if not ORDER_ID.fullmatch(value):
        raise ValueError("order_id: up to 50 of A-Z a-z 0-9 - _ ~ .")
    return value


class PaymentCustomer(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    email: Email
    phone: str | None = Field(default=None, max_length=50)


class PaymentItem(BaseModel):
    """One Midtrans `item_details` line: a ticket type, or a discount (a negative price)."""

    id: str = Field(min_length=1, max_length=255)
    name: str = Field(min_length=1, max_length=50)
    price: int
    quantity: int = Field(ge=1)


class PaymentMetadata(BaseModel):
    model_config = ConfigDict(extra="allow")

    ticket_id: str = Field(min_length=1)
    event_id: str = Field(min_length=1)
    user_id: str = Field(min_length=1)
    event_title: str | None = None
    event_starts_at: AwareDatetime | None = None
    purchase_order_id: str | None = Field(
        default=None, description="ticket-service's order; `ticket_id` is its first ticket"
    )
    ticket_ids: list[str] = Field(default_factory=list, description="every ticket of the order")


class OpenPaymentRequest(BaseModel):
    order_id: str = Field(pattern=ORDER_ID.pattern)
    amount: int = Field(gt=0)
    currency: str = "IDR"
    customer: PaymentCustomer
    items: list[PaymentItem] = Field(min_length=1)
    expires_at: AwareDatetime
    metadata: PaymentMetadata

    _check_order_id = field_validator("order_id")(check_order_id)

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


class OpenedPayment(BaseModel):
    """The order's open Midtrans payment: what the buyer's app needs to pay it."""

    model_config = ConfigDict(extra="ignore")

    order_id: str
    snap_token: str
    redirect_url: str
    expires_at: AwareDatetime
    status: str = "pending"

    @field_serializer("expires_at")
    def _iso(self, value: datetime) -> str:
        # Python's isoformat ("+00:00"), as the API always wrote it, not pydantic's "Z".
        return value.isoformat()
