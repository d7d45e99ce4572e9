"""The Snap transaction request: what we ask Midtrans for when a payment is opened."""

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

JAKARTA = timezone(timedelta(hours=7))
MIN_SESSION = timedelta(minutes=1)
_PHONE = re.compile(r"\+?[0-9 ()-]+")


class HoldExpired(ValueError):
    """The seat hold ends too soon for a Snap session (Midtrans counts whole minutes)."""


@dataclass(frozen=True)
class Customer:
    name: str
    email: str
    phone: str | None = None


@dataclass(frozen=True)
class Item:
    id: str
    name: str
    price: int
    quantity: int


@dataclass(frozen=True)
class SnapSession:
    body: dict[str, Any]
    token_expires_at: datetime  # when the Snap page (token) stops working


def snap_request(
    *,
    order_id: str,
    amount: int,
    customer: Customer,
    items: list[Item],
    hold_ends_at: datetime,
    now: datetime,
    max_page_minutes: int,
) -> SnapSession:
    """The Snap body whose payment session ends exactly when the seat hold ends.

    `expiry.start_time` is set a whole number of minutes before the hold's end (it may be a few
    seconds in the past), so the customer cannot pay for a seat that was released. The page
    (token) lives no longer than the session, and at most `max_page_minutes`.
    """
    remaining = ensure_session_possible(hold_ends_at, now)
    minutes = math.ceil(remaining.total_seconds() / 60)
    start = (hold_ends_at - timedelta(minutes=minutes)).astimezone(JAKARTA)
    page_minutes = max(1, min(math.floor(remaining.total_seconds() / 60), max_page_minutes))
    body: dict[str, Any] = {
        "transaction_details": {"order_id": order_id, "gross_amount": amount},
        "item_details": [
            {"id": i.id[:50], "name": i.name[:50], "price": i.price, "quantity": i.quantity}
            for i in items
        ],
        "customer_details": _customer_details(customer),
        "credit_card": {"secure": True},
        "expiry": {
            "start_time": start.strftime("%Y-%m-%d %H:%M:%S %z"),
            "unit": "minute",
            "duration": minutes,
        },
        "page_expiry": {"duration": page_minutes, "unit": "minute"},
    }
    return SnapSession(body=body, token_expires_at=now + timedelta(minutes=page_minutes))


def ensure_session_possible(hold_ends_at: datetime, now: datetime) -> timedelta:
    """The time left on the hold; HoldExpired if too little for a Snap session."""
    remaining = hold_ends_at - now
    if remaining < MIN_SESSION:
        raise HoldExpired("The seat hold ends in less than a minute; no payment can be opened.")
    return remaining


def _customer_details(customer: Customer) -> dict[str, Any]:
    first, _, last = customer.name.strip().partition(" ")
    details: dict[str, Any] = {"first_name": first[:255], "email": customer.email[:255]}
    if last:
        details["last_name"] = last[:255]
    # Midtrans refuses a malformed or long phone; it is optional, so such a phone is left out
    # rather than failing the purchase.
    if customer.phone and len(customer.phone) <= 19 and _PHONE.fullmatch(customer.phone):
        details["phone"] = customer.phone
    return details


def needs_new_token(
    *, token: str | None, token_expires_at: datetime | None, hold_ends_at: datetime, now: datetime
) -> bool:
    """A Snap page that expired while the seat hold still stands is renewed; else kept."""
    if token is None or token_expires_at is None:
        return True
    return token_expires_at <= now < hold_ends_at
