"""The ticket.* integration events, built from a ticket entity and written to the outbox."""

from datetime import datetime
from typing import Any

import asyncpg
from servicekit.messaging import Outbox
from ticketing_contracts import (
    TicketActivated,
    TicketCancelled,
    TicketCheckedIn,
    TicketExpired,
    TicketRefundRequested,
)

from ticket_service.domain.entities import Ticket
from ticket_service.domain.qr_codes import SigningKeys, sign_qr_payload


def _facts(ticket: Ticket) -> dict[str, Any]:
    return {
        "ticket_id": ticket.id,
        "event_id": ticket.event_id,
        "user_id": ticket.user_id,
        "order_id": ticket.order_id,
        "attendance_code": ticket.attendance_code,
        "holder_name": ticket.holder_name,
        "holder_email": ticket.holder_email,
        "event_title": ticket.event.title,
        "event_starts_at": ticket.event.starts_at,
        "event_venue": ticket.event.venue,
        "host_id": ticket.event.host_id,
    }


class OutboxTicketEvents:
    """Writes each event in the caller's transaction (the connection's), for the relay to send."""

    def __init__(self, conn: asyncpg.Connection, outbox: Outbox, keys: SigningKeys) -> None:
        self.conn = conn
        self.outbox = outbox
        self.keys = keys

    async def activated(self, ticket: Ticket, *, at: datetime) -> None:
        qr = sign_qr_payload(ticket.id, ticket.attendance_code, self.keys)
        payload = TicketActivated(
            **_facts(ticket),
            price_paid=ticket.price_paid,
            currency=ticket.currency,
            activated_at=at,
            qr_payload=qr,
        )
        await self.outbox.add(self.conn, payload)

    async def cancelled(self, ticket: Ticket, *, at: datetime, by: str, reason: str) -> None:
        payload = TicketCancelled(**_facts(ticket), cancelled_at=at, cancelled_by=by, reason=reason)
        await self.outbox.add(self.conn, payload)

    async def expired(self, ticket: Ticket, *, at: datetime) -> None:
        await self.outbox.add(self.conn, TicketExpired(**_facts(ticket), expired_at=at))

    async def refund_requested(self, ticket: Ticket, *, amount: int, reason: str) -> None:
        payload = TicketRefundRequested(
            **_facts(ticket), amount=amount, currency=ticket.currency, reason=reason
        )
        await self.outbox.add(self.conn, payload)

    async def checked_in(self, ticket: Ticket) -> None:
        """Written by the door (issue 6) in the check-in's own transaction."""
        payload = TicketCheckedIn(
            **_facts(ticket), checked_in_at=ticket.checked_in_at, checked_in_by=ticket.checked_in_by
        )
        await self.outbox.add(self.conn, payload)
