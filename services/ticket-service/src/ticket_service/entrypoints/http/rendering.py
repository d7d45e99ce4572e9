"""What clients see: the seed's ticket and transaction fields plus what a real app needs."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ticketing_contracts.internal_payments import OpenedPayment

from ticket_service.domain.entities import PaymentLink, Ticket, TicketedEvent, TicketTransaction
from ticket_service.domain.orders import DEFAULT_MAX_PER_ORDER, TicketType
from ticket_service.domain.payments import PaymentAttempt, Refund
from ticket_service.domain.ticketed_events import SaleWindow
from ticket_service.domain.tickets import TicketStatus


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def ticket_public(
    ticket: Ticket, *, qr_url_template: str = "/tickets/{ticket_id}/qr"
) -> dict[str, Any]:
    active = ticket.status == TicketStatus.ACTIVE
    pending = ticket.status == TicketStatus.PENDING
    return {
        "id": ticket.id,
        "user_id": ticket.user_id,
        "event_id": ticket.event_id,
        "attendance_code": ticket.attendance_code,
        "price_paid": ticket.price_paid,
        "currency": ticket.currency,
        "purchased_at": iso(ticket.purchased_at),
        "is_checked_in": ticket.is_checked_in,
        "checked_in_at": iso(ticket.checked_in_at),
        "status": str(ticket.status),
        "holder_name": ticket.holder_name,
        "holder_email": ticket.holder_email,
        "holder_phone": ticket.holder_phone,
        "order_id": ticket.order_id,
        "hold_expires_at": iso(ticket.hold_expires_at) if pending else None,
        "activated_at": iso(ticket.activated_at),
        "cancelled_at": iso(ticket.cancelled_at),
        "cancel_reason": ticket.cancel_reason,
        "qr_url": qr_url_template.format(ticket_id=ticket.id) if active else None,
        "event": {
            "id": ticket.event.id,
            "title": ticket.event.title,
            "starts_at": iso(ticket.event.starts_at),
            "venue": ticket.event.venue,
        },
        "last_payment_attempt": attempt_public(ticket.last_payment_attempt),
        "refund": refund_public(ticket.refund),
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "ticket_type_id": ticket.ticket_type_id,
        "ticket_type_name": ticket.ticket_type_name,
        "purchase_order_id": ticket.purchase_order_id,
        "attendee": {
            "name": ticket.holder_name,
            "email": ticket.holder_email,
            "phone": ticket.holder_phone,
        },
    }


def ticket_with_payment(ticket: Ticket, *, qr_url_template: str) -> dict[str, Any]:
    """The ticket and, while it is pending, the payment the app can resume."""
    body = ticket_public(ticket, qr_url_template=qr_url_template)
    return {**body, "payment": payment_public(ticket.pending_payment)}


def attempt_public(attempt: PaymentAttempt | None) -> dict[str, Any] | None:
    """The latest attempt to pay the order: a declined card says "try again" while pending."""
    if attempt is None:
        return None
    return {"result": attempt.result, "reason": attempt.reason, "at": iso(attempt.at)}


def refund_public(refund: Refund | None) -> dict[str, Any] | None:
    """The order's latest refund and its state (a payout waits for the buyer's bank account)."""
    if refund is None:
        return None
    return {
        "id": refund.id,
        "amount": refund.amount,
        "method": refund.method,
        "status": refund.status,
        "reason": refund.reason,
        "reference": refund.reference,
        "updated_at": iso(refund.updated_at),
    }


def payment_public(link: PaymentLink | None) -> dict[str, Any] | None:
    if link is None:
        return None
    return {
        "order_id": link.order_id,
        "snap_token": link.snap_token,
        "redirect_url": link.redirect_url,
        "expires_at": iso(link.expires_at),
    }


def opened_payment_public(opened: OpenedPayment) -> dict[str, Any]:
    """The payment just opened, as the purchase answers it."""
    return {
        "order_id": opened.order_id,
        "snap_token": opened.snap_token,
        "redirect_url": opened.redirect_url,
        "expires_at": opened.expires_at.isoformat(),
    }


def transaction_public(transaction: TicketTransaction) -> dict[str, Any]:
    return {
        "id": transaction.id,
        "ticket_id": transaction.ticket_id,
        "user_id": transaction.user_id,
        "event_id": transaction.event_id,
        "order_id": transaction.order_id,
        "amount": transaction.amount,
        "currency": transaction.currency,
        "status": str(transaction.status),
        "payment_method": transaction.payment_method,
        "payment_gateway_id": transaction.payment_gateway_id,
        "payment_gateway_response": transaction.payment_gateway_response,
        "created_at": iso(transaction.created_at),
        "updated_at": iso(transaction.updated_at),
        "completed_at": iso(transaction.completed_at),
        "payment_status": transaction.payment_status,
        "last_payment_attempt": attempt_public(transaction.last_payment_attempt),
        "refund": refund_public(transaction.refund),
    }


def event_public(
    event: TicketedEvent, now: datetime, ticket_types: Sequence[TicketType] | None = None
) -> dict[str, Any]:
    """The event; with `ticket_types` (GET) also its types, in position order."""
    seats = event.seats
    body: dict[str, Any] = {
        "id": event.id,
        "host_id": event.host_id,
        "title": event.title,
        "venue": event.venue,
        "starts_at": iso(event.starts_at),
        "price": event.price,
        "currency": event.currency,
        "capacity": seats.capacity,
        "sold": seats.sold,
        "held": seats.held,
        "available": seats.available,
        "sales_start": iso(event.sales_start),
        "sales_end": iso(event.sales_end),
        "max_per_user": event.max_per_user,
        "max_per_order": event.max_per_order or DEFAULT_MAX_PER_ORDER,
        "on_sale": event.sale_window.is_open(now) and seats.available > 0,
        "created_at": iso(event.created_at),
        "updated_at": iso(event.updated_at),
    }
    if ticket_types is not None:
        body["ticket_types"] = [ticket_type_public(t, event, now) for t in ticket_types]
    return body


def ticket_type_public(kind: TicketType, event: TicketedEvent, now: datetime) -> dict[str, Any]:
    own = kind.available
    available = event.seats.available if own is None else min(own, event.seats.available)
    window = SaleWindow(
        event.starts_at, kind.sales_start or event.sales_start, kind.sales_end or event.sales_end
    )
    return {
        "id": kind.id,
        "name": kind.name,
        "description": kind.description,
        "price": kind.price,
        "currency": event.currency,
        "capacity": kind.capacity,
        "available": available,
        "on_sale": window.is_open(now) and available > 0 and not kind.hidden,
        "sales_start": iso(kind.sales_start),
        "sales_end": iso(kind.sales_end),
        "max_per_order": kind.max_per_order,
        "position": kind.position,
        "hidden": kind.hidden,
    }
