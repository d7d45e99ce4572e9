"""Rows to entities, once: nothing past an adapter reads a row by column name."""

from collections.abc import Mapping
from typing import Any

from ticket_service.domain.entities import (
    EventFacts,
    PaymentLink,
    Ticket,
    TicketedEvent,
    TicketTransaction,
)
from ticket_service.domain.payments import PaymentAttempt, Refund
from ticket_service.domain.tickets import TicketStatus, TransactionStatus

Record = Mapping[str, Any]
"""An asyncpg.Record (asyncpg ships no types); only this package reads one."""


def ticketed_event(row: Record) -> TicketedEvent:
    return TicketedEvent(
        id=row["event_id"],
        host_id=row["host_id"],
        title=row["title"],
        venue=row["venue"],
        starts_at=row["starts_at"],
        price=row["price"],
        currency=row["currency"],
        capacity=row["capacity"],
        sold=row["sold"],
        held=row["held"],
        sales_start=row["sales_start"],
        sales_end=row["sales_end"],
        max_per_user=row["max_per_user"],
        max_per_order=row["max_per_order"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def last_payment_attempt(row: Record) -> PaymentAttempt | None:
    if row["last_attempt_result"] is None:
        return None
    return PaymentAttempt(
        result=row["last_attempt_result"],
        reason=row["last_attempt_reason"],
        at=row["last_attempt_at"],
    )


def refund(row: Record) -> Refund | None:
    if row["refund_status"] is None:
        return None
    return Refund(
        id=row["refund_id"],
        amount=row["refund_amount"],
        method=row["refund_method"],
        status=row["refund_status"],
        reason=row["refund_reason"],
        reference=row["refund_reference"],
        updated_at=row["refund_updated_at"],
    )


def payment_link(row: Record) -> PaymentLink | None:
    """The transaction's open Midtrans payment, from its columns (None before one opened)."""
    if row["snap_token"] is None:
        return None
    return PaymentLink(
        order_id=row["order_id"],
        snap_token=row["snap_token"],
        redirect_url=row["redirect_url"],
        expires_at=row["payment_expires_at"],
    )


def ticket(row: Record) -> Ticket:
    """A row of `TICKET_VIEW`: the ticket, its event and its transaction."""
    link = payment_link(row)
    return Ticket(
        id=str(row["id"]),
        user_id=row["user_id"],
        event_id=row["event_id"],
        attendance_code=row["attendance_code"],
        price_paid=row["price_paid"],
        currency=row["currency"],
        status=TicketStatus(row["status"]),
        holder_name=row["holder_name"],
        holder_email=row["holder_email"],
        holder_phone=row["holder_phone"],
        purchased_at=row["purchased_at"],
        hold_expires_at=row["hold_expires_at"],
        activated_at=row["activated_at"],
        is_checked_in=row["is_checked_in"],
        checked_in_at=row["checked_in_at"],
        checked_in_by=row["checked_in_by"],
        cancelled_at=row["cancelled_at"],
        cancel_reason=row["cancel_reason"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        event=EventFacts(
            id=row["event_id"],
            title=row["event_title"],
            starts_at=row["event_starts_at"],
            venue=row["event_venue"],
            host_id=row["event_host_id"],
        ),
        order_id=row["order_id"],
        payment_link=link,
        last_payment_attempt=last_payment_attempt(row),
        refund=refund(row),
        ticket_type_id=row["ticket_type_id"],
        ticket_type_name=row["ticket_type_name"],
        purchase_order_id=str_or_none(row["purchase_order_id"]),
        order_size=row["order_size"],
    )


def str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def tickets(rows: list[Record]) -> list[Ticket]:
    """One entity per ticket even if a ticket ever carries several transactions."""
    return list({str(r["id"]): ticket(r) for r in rows}.values())


def transaction(row: Record) -> TicketTransaction:
    return TicketTransaction(
        id=str(row["id"]),
        ticket_id=str(row["ticket_id"]),
        user_id=row["user_id"],
        event_id=row["event_id"],
        order_id=row["order_id"],
        amount=row["amount"],
        currency=row["currency"],
        status=TransactionStatus(row["status"]),
        payment_method=row["payment_method"],
        payment_gateway_id=row["payment_gateway_id"],
        payment_gateway_response=row["payment_gateway_response"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        completed_at=row["completed_at"],
        payment_status=row["payment_status"],
        last_payment_attempt=last_payment_attempt(row),
        refund=refund(row),
    )
