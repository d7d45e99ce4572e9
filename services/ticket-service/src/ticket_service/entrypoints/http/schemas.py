"""Request bodies. Money is integer rupiah: an integral number is accepted, a fraction refused."""

import uuid
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)
from servicekit.fields import NO_CONTROL, SINGLE_LINE, AwareDatetime, Email, Trim

from ticket_service.domain.money import to_rupiah
from ticket_service.domain.waitlist import MOST_SEATS_WAITED_FOR

Rupiah = Annotated[int, BeforeValidator(to_rupiah)]
"""A whole number of rupiah: 50000 and 50000.0 pass; 50000.5, true and -1 do not."""


class TicketedEventPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, StringConstraints(max_length=200, pattern=SINGLE_LINE), Trim]
    venue: Annotated[str, StringConstraints(max_length=300, pattern=SINGLE_LINE), Trim]
    starts_at: AwareDatetime
    price: Rupiah = Field(ge=0, le=1_000_000_000, description="integer rupiah; 0 = free")
    currency: str = Field(default="IDR", pattern="^IDR$")
    capacity: int = Field(gt=0, le=100_000)
    sales_start: AwareDatetime | None = None
    sales_end: AwareDatetime | None = None
    max_per_user: int | None = Field(default=None, gt=0, le=1000)
    max_per_order: int | None = Field(
        default=None, ge=1, le=100, description="tickets per order (default 4)"
    )
    host_id: str | None = Field(default=None, description="admins only: the event's host")


class PurchaseRequest(BaseModel):
    """The seed's body. `user_id` is optional: the JWT says who buys."""

    event_id: uuid.UUID
    user_id: str | None = None
    customer_name: Annotated[str, StringConstraints(max_length=100, pattern=SINGLE_LINE), Trim]
    customer_email: Email
    customer_phone: (
        Annotated[str, StringConstraints(max_length=19, pattern=NO_CONTROL), Trim] | None
    ) = None
    amount: Rupiah | None = Field(
        default=None, ge=0, description="integer rupiah, must equal the price"
    )


Name = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=SINGLE_LINE), Trim]
Phone = Annotated[str, StringConstraints(max_length=19, pattern=NO_CONTROL), Trim]
SetupId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class TicketTypePut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    price: Rupiah = Field(ge=0, le=1_000_000_000, description="integer rupiah; 0 = free")
    capacity: int | None = Field(default=None, gt=0, le=100_000, description="none: the event's")
    sales_start: AwareDatetime | None = None
    sales_end: AwareDatetime | None = None
    max_per_order: int | None = Field(default=None, ge=1, le=100)
    description: (
        Annotated[str, StringConstraints(max_length=2000, pattern=NO_CONTROL), Trim] | None
    ) = None
    position: int = Field(default=0, ge=-1000, le=1000)
    hidden: bool = False


class QuotaPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    size: int = Field(ge=0, le=100_000)
    ticket_type_ids: list[SetupId] = Field(min_length=1, max_length=50)


class PromoCodePut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    percent_off: int | None = Field(default=None, ge=1, le=100)
    amount_off: Rupiah | None = Field(default=None, gt=0, le=1_000_000_000)
    max_uses: int | None = Field(default=None, ge=0, le=1_000_000)
    max_uses_per_user: int | None = Field(default=None, ge=1, le=1000)
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    ticket_type_ids: list[SetupId] = Field(default_factory=list, max_length=50)


class OrderItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_type_id: SetupId
    quantity: int = Field(ge=1, le=100)


class AttendeeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    email: Email
    phone: Phone | None = None


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID
    items: list[OrderItemCreate] = Field(min_length=1, max_length=20)
    attendees: list[AttendeeCreate] = Field(default_factory=list, max_length=100)
    customer_name: Name
    customer_email: Email
    customer_phone: Phone | None = None
    promo_code: (
        Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=SINGLE_LINE), Trim]
        | None
    ) = None


class WaitlistJoin(BaseModel):
    """Who waits for how many seats of which type; the name and e-mail go on the order."""

    model_config = ConfigDict(extra="forbid")

    ticket_type_id: str = Field(default="default", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    quantity: int = Field(default=1, ge=1, le=MOST_SEATS_WAITED_FOR)
    customer_name: Annotated[str, StringConstraints(max_length=100, pattern=SINGLE_LINE), Trim]
    customer_email: Email
    customer_phone: (
        Annotated[str, StringConstraints(max_length=19, pattern=NO_CONTROL), Trim] | None
    ) = None


class WaitlistSettingsPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offer_minutes: int = Field(ge=1, le=1440, description="how long an offer holds its seats")
