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


class WaitlistJoin(BaseModel):
    """Who waits for how many seats of which type; the name and e-mail go on the order."""

    model_config = ConfigDict(extra="forbid")

    ticket_type_id: str = Field(default="default", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    quantity: int = Field(default=1, ge=1, le=100)
    customer_name: Annotated[str, StringConstraints(max_length=100, pattern=SINGLE_LINE), Trim]
    customer_email: Email
    customer_phone: (
        Annotated[str, StringConstraints(max_length=19, pattern=NO_CONTROL), Trim] | None
    ) = None


class WaitlistSettingsPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offer_minutes: int = Field(ge=1, le=1440, description="how long an offer holds its seats")
