"""The ticket.* and order.* integration events, built from entities and written to the outbox.

The e-ticket's QR in `ticket.activated` and `order.activated` is the event's Ed25519 QR (TKT2,
domain/offline_qr.py), the one `GET /tickets/{id}/qr` draws: a scanner verifies it offline.
"""

import uuid
from datetime import datetime
from typing import Any

import asyncpg
from servicekit.messaging import Outbox
from ticketing_contracts import (
    EventPayload,
    OrderActivated,
    OrderTicket,
    TicketActivatedV2,
    TicketCancelledV2,
    TicketCheckedInV2,
    TicketExpiredV2,
    TicketRefundRequestedV2,
)

from ticket_service.adapters import check_in_keys, rows
from ticket_service.adapters.repository import TICKET_VIEW
from ticket_service.domain.entities import Ticket
from ticket_service.domain.offline_qr import sign_offline_qr

EventKey = tuple[str, bytes]
"""(key id, private key) of the event's signing key."""


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
        "ticket_type_id": ticket.ticket_type_id,
        "ticket_type_name": ticket.ticket_type_name,
        "purchase_order_id": ticket.purchase_order_id,
        "order_size": ticket.order_size,
    }


def _qr(ticket: Ticket, key: EventKey) -> str:
    key_id, private_key = key
    return sign_offline_qr(
        event_id=ticket.event_id,
        ticket_id=ticket.id,
        attendance_code=ticket.attendance_code,
        ticket_type_id=ticket.ticket_type_id,
        key_id=key_id,
        private_key=private_key,
    )


def _activation(
    ticket: Ticket, *, at: datetime, key: EventKey, transferred: bool = False
) -> TicketActivatedV2:
    return TicketActivatedV2(
        **_facts(ticket),
        price_paid=ticket.price_paid,
        currency=ticket.currency,
        activated_at=at,
        qr_payload=_qr(ticket, key),
        transferred=transferred,
    )


# The order's last held ticket just turned active: claim the order's one announcement.
_CLAIM_ORDER = """
UPDATE orders o SET announced_at = now()
 WHERE o.id = $1 AND o.announced_at IS NULL
   AND NOT EXISTS (SELECT 1 FROM tickets WHERE purchase_order_id = o.id AND status = 'pending')
   AND EXISTS (SELECT 1 FROM tickets WHERE purchase_order_id = o.id AND status = 'active')
RETURNING o.id, o.payment_order_id, o.event_id, o.buyer_id, o.customer_name, o.customer_email,
          o.total, o.discount, o.currency, o.promo_code
"""


class OutboxTicketEvents:
    """Writes each event in the caller's transaction (the connection's), for the relay to send."""

    def __init__(self, conn: asyncpg.Connection, outbox: Outbox) -> None:
        self.conn = conn
        self.outbox = outbox

    async def activated(self, ticket: Ticket, *, at: datetime, key: EventKey | None = None) -> None:
        """`ticket.activated`; and `order.activated` once the whole order is active.

        `key`: the event's signing key, when the caller read it with the ticket.
        """
        if key is None:
            key = await check_in_keys.signing_key(self.conn, ticket.event_id)
        events: list[EventPayload] = [_activation(ticket, at=at, key=key)]
        if ticket.purchase_order_id is not None:
            order = await self._order_activated(ticket, at=at, key=key)
            if order is not None:
                events.append(order)
        await self.outbox.add_all(self.conn, events)

    async def transferred(self, ticket: Ticket, *, at: datetime) -> None:
        """`ticket.activated` for the new holder alone: the order was announced long ago."""
        key = await check_in_keys.signing_key(self.conn, ticket.event_id)
        await self.outbox.add(self.conn, _activation(ticket, at=at, key=key, transferred=True))

    async def _order_activated(
        self, ticket: Ticket, *, at: datetime, key: EventKey
    ) -> OrderActivated | None:
        """Every ticket's QR is signed with `key`: an order's tickets are all of one event."""
        order = await self.conn.fetchrow(_CLAIM_ORDER, uuid.UUID(ticket.purchase_order_id))
        if order is None:
            return None
        if ticket.order_size == 1:
            active = [ticket]  # claimed: the order's one ticket is active, and it is this one
        else:
            found = await self.conn.fetch(
                TICKET_VIEW
                + " WHERE t.purchase_order_id = $1 AND t.status = 'active'"
                + " ORDER BY t.id <> x.ticket_id, t.ticket_type_id, t.id",
                order["id"],
            )
            active = rows.tickets(list(found))
        tickets = [
            OrderTicket(
                ticket_id=t.id,
                attendance_code=t.attendance_code,
                holder_name=t.holder_name,
                holder_email=t.holder_email,
                ticket_type_id=t.ticket_type_id,
                ticket_type_name=t.ticket_type_name,
                price_paid=t.price_paid,
                qr_payload=_qr(t, key),
            )
            for t in active
        ]
        return OrderActivated(
            purchase_order_id=str(order["id"]),
            order_id=order["payment_order_id"],
            event_id=order["event_id"],
            user_id=order["buyer_id"],
            customer_name=order["customer_name"],
            customer_email=order["customer_email"],
            total=order["total"],
            discount=order["discount"],
            currency=order["currency"],
            promo_code=order["promo_code"],
            event_title=ticket.event.title,
            event_starts_at=ticket.event.starts_at,
            event_venue=ticket.event.venue,
            host_id=ticket.event.host_id,
            activated_at=at,
            tickets=tickets,
        )

    async def cancelled(self, ticket: Ticket, *, at: datetime, by: str, reason: str) -> None:
        payload = TicketCancelledV2(
            **_facts(ticket), cancelled_at=at, cancelled_by=by, reason=reason
        )
        await self.outbox.add(self.conn, payload)

    async def expired(self, ticket: Ticket, *, at: datetime) -> None:
        await self.outbox.add(self.conn, TicketExpiredV2(**_facts(ticket), expired_at=at))

    async def refund_requested(self, ticket: Ticket, *, amount: int, reason: str) -> None:
        """`amount` is the ticket's share of what its order paid."""
        await self.conn.execute(
            """UPDATE tickets SET refund_requested_at = coalesce(refund_requested_at, now())
                WHERE id = $1""",
            uuid.UUID(ticket.id),
        )
        payload = TicketRefundRequestedV2(
            **_facts(ticket), amount=amount, currency=ticket.currency, reason=reason
        )
        await self.outbox.add(self.conn, payload)

    async def checked_in(self, ticket: Ticket) -> None:
        """Written by the door (issue 6) in the check-in's own transaction."""
        payload = TicketCheckedInV2(
            **_facts(ticket), checked_in_at=ticket.checked_in_at, checked_in_by=ticket.checked_in_by
        )
        await self.outbox.add(self.conn, payload)
