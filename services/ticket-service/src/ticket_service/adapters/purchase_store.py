"""SQL for a purchase: lock the event, hold the seat, write the ticket, record the payment."""

import uuid
from datetime import datetime
from typing import Any

import asyncpg
from ticketing_contracts.internal_payments import OpenedPayment

from ticket_service.adapters import repository
from ticket_service.adapters.purchase_requests import SqlPurchaseRequests
from ticket_service.adapters.ticket_events import OutboxTicketEvents
from ticket_service.domain.entities import Ticket, TicketedEvent
from ticket_service.domain.errors import SoldOut
from ticket_service.domain.purchases import NewTicket
from ticket_service.domain.tickets import TicketStatus, TransactionStatus, order_id_for


class SqlPurchaseStore(SqlPurchaseRequests):
    def __init__(self, conn: asyncpg.Connection, events: OutboxTicketEvents) -> None:
        super().__init__(conn)
        self.events = events

    def transaction(self) -> Any:
        return self.conn.transaction()

    async def lock_event(self, event_id: str) -> TicketedEvent | None:
        event = await repository.lock_event(self.conn, event_id)
        # The waiting list's guard (issue 16): while anyone waits, seats coming back are theirs
        # and the type is sold out to everyone else. Under the event lock, as every offer is
        # made, so a seat freed now cannot slip past the line.
        if event is not None and await repository.someone_waiting(self.conn, event_id, "default"):
            raise SoldOut(
                "This event is sold out; join its waiting list.",
                details={"capacity": event.capacity, "waitlist": True},
            )
        return event

    async def seats_of_buyer(self, event_id: str, buyer_id: str) -> int:
        return await repository.count_user_seats(self.conn, event_id, buyer_id)

    async def hold_seat(self, new: NewTicket) -> Ticket:
        event, free = new.event, new.event.is_free
        await repository.move_seats(
            self.conn, event.id, sold=1 if free else 0, held=0 if free else 1
        )
        ticket_id = await repository.insert_ticket(
            self.conn,
            event_id=event.id,
            user_id=new.buyer_id,
            price=event.price,
            currency=event.currency,
            status=TicketStatus.ACTIVE if free else TicketStatus.PENDING,
            holder_name=new.holder_name,
            holder_email=new.holder_email,
            holder_phone=new.holder_phone,
            hold_expires_at=new.hold_expires_at,
            now=new.now,
        )
        await repository.insert_transaction(
            self.conn,
            ticket_id=ticket_id,
            user_id=new.buyer_id,
            event_id=event.id,
            order_id=order_id_for(str(ticket_id)),
            amount=event.price,
            currency=event.currency,
            status=TransactionStatus.COMPLETED if free else TransactionStatus.PENDING,
            payment_method="free" if free else None,
            now=new.now,
        )
        return await self._existing(ticket_id)

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

    async def record_opened_payment(self, ticket_id: str, opened: OpenedPayment) -> Ticket:
        uid = uuid.UUID(ticket_id)
        await repository.record_opened_payment(
            self.conn,
            uid,
            snap_token=opened.snap_token,
            redirect_url=opened.redirect_url,
            expires_at=opened.expires_at,
            raw=opened.model_dump(mode="json"),
        )
        return await self._existing(uid)

    async def _existing(self, ticket_id: uuid.UUID) -> Ticket:
        ticket = await repository.ticket_view(self.conn, ticket_id)
        if ticket is None:
            raise RuntimeError(f"ticket {ticket_id} vanished inside its transaction")
        return ticket
