"""SQL for a purchase: lock the event, hold the seat, write the ticket, record the payment."""

import dataclasses
import uuid
from datetime import datetime
from typing import Any

import asyncpg
from ticketing_contracts.internal_payments import OpenedPayment

from ticket_service.adapters import repository
from ticket_service.adapters.order_refusals import Messages
from ticket_service.adapters.orders_repository import hold_order, tickets_of_order
from ticket_service.adapters.purchase_requests import SqlPurchaseRequests
from ticket_service.adapters.ticket_events import OutboxTicketEvents
from ticket_service.domain.entities import Ticket, TicketedEvent
from ticket_service.domain.orders import DEFAULT_TYPE_ID, OrderItem
from ticket_service.domain.purchases import NewTicket, PaidSeat
from ticket_service.domain.tickets import TicketStatus
from ticket_service.service_layer.ordering import Held, PlaceOrder


class SqlPurchaseStore(SqlPurchaseRequests):
    def __init__(self, conn: asyncpg.Connection, events: OutboxTicketEvents) -> None:
        super().__init__(conn)
        self.events = events

    def transaction(self) -> Any:
        return self.conn.transaction()

    async def lock_event(self, event_id: str) -> TicketedEvent | None:
        return await repository.lock_event(self.conn, event_id)

    async def seats_of_buyer(self, event_id: str, buyer_id: str) -> int:
        return await repository.count_user_seats(self.conn, event_id, buyer_id)

    async def hold_seat(self, new: NewTicket) -> Ticket:
        """The seed's purchase is an order of one ticket of the default type: the same hold."""
        minutes = (
            (new.hold_expires_at - new.now).total_seconds() / 60 if new.hold_expires_at else 15.0
        )
        order = _one_ticket(
            new.buyer_id, new.event.id, new.holder_name, new.holder_email, new.holder_phone
        )
        held = await hold_order(self.conn, order, now=new.now, hold_minutes=minutes)
        assert isinstance(held, Held)  # no Idempotency-Key goes in: the use case keeps it
        tickets = await tickets_of_order(self.conn, held.order_id)
        return tickets[0]

    async def hold_paid_seat(self, seat: PaidSeat) -> Ticket | None:
        """One statement (`hold_order`): no lock outlives it. None when the key was taken."""
        order = _one_ticket(
            seat.buyer_id,
            seat.event_id,
            seat.holder_name,
            seat.holder_email,
            seat.holder_phone,
            idempotency_key=seat.idempotency_key,
        )
        held = await hold_order(
            self.conn,
            order,
            now=seat.now,
            hold_minutes=seat.hold_minutes,
            expected_price=seat.price,
            fingerprint=seat.fingerprint,
            messages=Messages.SINGLE_TICKET,
        )
        if not isinstance(held, Held):
            return None
        tickets = await tickets_of_order(self.conn, held.order_id)
        return tickets[0]

    async def ticket(self, ticket_id: str) -> Ticket | None:
        return await repository.ticket_view(self.conn, uuid.UUID(ticket_id))

    async def release_hold(self, ticket_id: str, *, now: datetime) -> Ticket | None:
        uid = uuid.UUID(ticket_id)
        event_id = await repository.lock_pending_ticket(self.conn, uid)
        if event_id is None:
            return None
        await repository.set_ticket_status(self.conn, uid, TicketStatus.EXPIRED, now=now)
        await repository.move_seats(self.conn, event_id, held=-1)
        await repository.cancel_transactions_of(self.conn, [uid], now)
        return await self._existing(uid)

    async def record_opened_payment(self, ticket: Ticket, opened: OpenedPayment) -> Ticket:
        """The held ticket with the link written: the one UPDATE answers it, no re-read."""
        link = await repository.record_opened_payment(
            self.conn,
            uuid.UUID(ticket.id),
            snap_token=opened.snap_token,
            redirect_url=opened.redirect_url,
            expires_at=opened.expires_at,
            raw=opened.model_dump(mode="json"),
        )
        if link is None:
            raise RuntimeError(f"ticket {ticket.id} has no transaction to record its payment in")
        return dataclasses.replace(ticket, payment_link=link)

    async def _existing(self, ticket_id: uuid.UUID) -> Ticket:
        ticket = await repository.ticket_view(self.conn, ticket_id)
        if ticket is None:
            raise RuntimeError(f"ticket {ticket_id} vanished inside its transaction")
        return ticket


def _one_ticket(
    buyer_id: str,
    event_id: str,
    name: str,
    email: str,
    phone: str | None,
    *,
    idempotency_key: str | None = None,
) -> PlaceOrder:
    """The seed's purchase as an order: one ticket of the default type, for the buyer."""
    return PlaceOrder(
        buyer_id=buyer_id,
        event_id=event_id,
        items=(OrderItem(DEFAULT_TYPE_ID, 1),),
        attendees=(),
        customer_name=name,
        customer_email=email,
        customer_phone=phone,
        idempotency_key=idempotency_key,
    )
