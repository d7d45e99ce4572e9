"""What clients see: the seed's ticket and transaction fields plus what a real app needs."""

from datetime import datetime
from typing import Any

from ticket_service.adapters.repository import Row
from ticket_service.domain.ticketed_events import SaleWindow, Seats


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def ticket_public(row: Row, *, qr_url_template: str = "/tickets/{ticket_id}/qr") -> dict[str, Any]:
    ticket_id = str(row["id"])
    status = row["status"]
    return {
        "id": ticket_id,
        "user_id": row["user_id"],
        "event_id": row["event_id"],
        "attendance_code": row["attendance_code"],
        "price_paid": row["price_paid"],
        "currency": row["currency"],
        "purchased_at": _iso(row["purchased_at"]),
        "is_checked_in": row["is_checked_in"],
        "checked_in_at": _iso(row["checked_in_at"]),
        "status": status,
        "holder_name": row["holder_name"],
        "holder_email": row["holder_email"],
        "holder_phone": row["holder_phone"],
        "order_id": row["order_id"],
        "hold_expires_at": _iso(row["hold_expires_at"]) if status == "pending" else None,
        "activated_at": _iso(row["activated_at"]),
        "cancelled_at": _iso(row["cancelled_at"]),
        "cancel_reason": row["cancel_reason"],
        "qr_url": qr_url_template.format(ticket_id=ticket_id) if status == "active" else None,
        "event": {
            "id": row["event_id"],
            "title": row["event_title"],
            "starts_at": _iso(row["event_starts_at"]),
            "venue": row["event_venue"],
        },
        "last_payment_attempt": last_payment_attempt(row),
        "refund": refund_public(row),
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
    }


def last_payment_attempt(row: Row) -> dict[str, Any] | None:
    """The latest attempt to pay the order: a declined card says "try again" while pending."""
    if row["last_attempt_result"] is None:
        return None
    return {
        "result": row["last_attempt_result"],
        "reason": row["last_attempt_reason"],
        "at": _iso(row["last_attempt_at"]),
    }


def refund_public(row: Row) -> dict[str, Any] | None:
    """The order's latest refund and its state (a payout waits for the buyer's bank account)."""
    if row["refund_status"] is None:
        return None
    return {
        "id": row["refund_id"],
        "amount": row["refund_amount"],
        "method": row["refund_method"],
        "status": row["refund_status"],
        "reason": row["refund_reason"],
        "reference": row["refund_reference"],
        "updated_at": _iso(row["refund_updated_at"]),
    }


def pending_payment(row: Row) -> dict[str, Any] | None:
    """The open payment of a pending ticket, so the app can resume it."""
    if row["status"] != "pending" or row["snap_token"] is None:
        return None
    return {
        "order_id": row["order_id"],
        "snap_token": row["snap_token"],
        "redirect_url": row["redirect_url"],
        "expires_at": _iso(row["payment_expires_at"]),
    }


def transaction_public(row: Row) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "ticket_id": str(row["ticket_id"]),
        "user_id": row["user_id"],
        "event_id": row["event_id"],
        "order_id": row["order_id"],
        "amount": row["amount"],
        "currency": row["currency"],
        "status": row["status"],
        "payment_method": row["payment_method"],
        "payment_gateway_id": row["payment_gateway_id"],
        "payment_gateway_response": row["payment_gateway_response"],
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
        "completed_at": _iso(row["completed_at"]),
        "payment_status": row["payment_status"],
        "last_payment_attempt": last_payment_attempt(row),
        "refund": refund_public(row),
    }


def event_public(row: Row, now: datetime) -> dict[str, Any]:
    seats = Seats(capacity=row["capacity"], sold=row["sold"], held=row["held"])
    window = SaleWindow(row["starts_at"], row["sales_start"], row["sales_end"])
    return {
        "id": row["event_id"],
        "host_id": row["host_id"],
        "title": row["title"],
        "venue": row["venue"],
        "starts_at": _iso(row["starts_at"]),
        "price": row["price"],
        "currency": row["currency"],
        "capacity": seats.capacity,
        "sold": seats.sold,
        "held": seats.held,
        "available": seats.available,
        "sales_start": _iso(row["sales_start"]),
        "sales_end": _iso(row["sales_end"]),
        "max_per_user": row["max_per_user"],
        "on_sale": window.is_open(now) and seats.available > 0,
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
    }
