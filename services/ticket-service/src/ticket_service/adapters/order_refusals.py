"""The hold's refusals (raised in SQL as code + JSON details) as the domain's exceptions."""

import json
from enum import Enum
from typing import Any

from ticket_service.domain import errors
from ticket_service.domain.errors import TicketingRefusal
from ticket_service.domain.orders import (
    InvalidPromoCode,
    PromoCodeUsedUp,
    TicketTypeNotFound,
    TooManyTickets,
)

WRONG_CODE = "This promo code is not valid for this event."


class Messages(Enum):
    """How a refusal is worded: for an order's items, or for the seed's one ticket."""

    ORDER = "order"
    SINGLE_TICKET = "single_ticket"


# The seed's purchase (`POST /tickets/purchase`) buys one ticket, so its refusals name no item.
_SINGLE_TICKET: dict[str, str] = {
    "sold_out": "This event is sold out.",
    "per_user_limit_reached": "You already hold the {max_per_user} ticket(s) allowed per person"
    " for this event.",
    "sales_not_open": "Ticket sales have not started yet.",
    "sales_closed": "Ticket sales for this event have ended.",
}


def _named(details: dict[str, Any]) -> str:
    if "ticket_type_id" in details:
        return f"Item {details.get('item', 0)} ({details['ticket_type_id']})"
    return "The order"


def _message(code: str, details: dict[str, Any]) -> str:
    if code == "sold_out":
        if "ticket_type_id" not in details:
            return "This event is sold out."
        where = f" (quota {details['quota_id']})" if "quota_id" in details else ""
        return (
            f"{_named(details)} cannot be held: {details.get('available', 0)} left{where};"
            " nothing was held."
        )
    if code == "price_mismatch":
        return f"The price is {details['price']} {details['currency']}."
    if code == "per_user_limit_reached":
        return (
            f"You may hold {details['max_per_user']} ticket(s) for this event in all;"
            f" you hold {details.get('held', 0)}."
        )
    if code == "too_many_tickets":
        return f"{_named(details)}: at most {details['max_per_order']} ticket(s) per order."
    if code == "ticket_type_not_found":
        return f"{_named(details)}: no such ticket type on sale at this event."
    if code == "sales_not_open":
        return f"{_named(details)}: sales have not started yet."
    if code == "sales_closed":
        return f"{_named(details)}: sales have ended."
    if code == "promo_code_used_up":
        return "This promo code has been used up."
    if code == "promo_code_not_applicable":
        return "This promo code does not apply to these tickets."
    if code == "invalid_promo_code":
        return WRONG_CODE
    return "No ticketed event with this id."


REFUSALS: dict[str, type[TicketingRefusal]] = {
    "event_not_found": errors.EventNotFound,
    "sold_out": errors.SoldOut,
    "price_mismatch": errors.PriceMismatch,
    "per_user_limit_reached": errors.PerUserLimitReached,
    "too_many_tickets": TooManyTickets,
    "ticket_type_not_found": TicketTypeNotFound,
    "sales_not_open": errors.SalesNotOpen,
    "sales_closed": errors.SalesClosed,
    "invalid_promo_code": InvalidPromoCode,
    "promo_code_not_applicable": InvalidPromoCode,
    "promo_code_used_up": PromoCodeUsedUp,
}


def refusal(
    code: str, detail: str | None, *, messages: Messages = Messages.ORDER
) -> TicketingRefusal | None:
    """The refusal the hold raised, or None when the error is not one of ours."""
    kind = REFUSALS.get(code)
    if kind is None:
        return None
    details: dict[str, Any] = json.loads(detail) if detail else {}
    single = _SINGLE_TICKET.get(code) if messages is Messages.SINGLE_TICKET else None
    message = single.format(**details) if single is not None else _message(code, details)
    return kind(message, details=details)
