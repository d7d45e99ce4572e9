"""SQL for orders: the one-statement hold, the order's view, its payment, release and cancel."""

import uuid
from datetime import datetime
from typing import Any

import asyncpg
from ticketing_contracts.internal_payments import OpenedPayment

from ticket_service.adapters import repository, rows
from ticket_service.adapters.order_refusals import Messages, refusal
from ticket_service.adapters.purchase_requests import SqlPurchaseRequests
from ticket_service.adapters.repository import TICKET_VIEW
from ticket_service.adapters.rows import Record
from ticket_service.adapters.ticket_events import OutboxTicketEvents
from ticket_service.domain.door import DoorTicket
from ticket_service.domain.entities import Ticket
from ticket_service.domain.orders import DEFAULT_MAX_PER_ORDER, Order, OrderLine
from ticket_service.domain.tickets import TicketStatus
from ticket_service.service_layer.ordering import Held, KeyTaken, PlaceOrder

HOLD = """SELECT hold_order($1, $2, $3::text[], $4::int[], $5::text[], $6::text[], $7::text[],
                         $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"""

ORDER_VIEW = """
SELECT o.id, o.event_id, o.buyer_id, o.status, o.total, o.discount, o.currency, o.promo_code,
       o.payment_order_id, o.customer_name, o.customer_email, o.customer_phone,
       o.hold_expires_at, o.paid_at, o.cancelled_at, o.created_at, o.updated_at,
       e.title AS event_title, e.starts_at AS event_starts_at,
       (SELECT array_agg(t.id ORDER BY t.id <> x.ticket_id, t.ticket_type_id, t.id)
          FROM tickets t
          LEFT JOIN ticket_transactions x ON x.purchase_order_id = o.id
         WHERE t.purchase_order_id = o.id) AS ticket_ids,
       (SELECT jsonb_agg(jsonb_build_object('ticket_type_id', l.ticket_type_id, 'name', l.name,
                                            'price', l.price, 'quantity', l.quantity)
                         ORDER BY l.position, l.ticket_type_id)
          FROM (SELECT t.ticket_type_id, ty.name, ty.position,
                       coalesce(t.list_price, t.price_paid) AS price, count(*) AS quantity
                  FROM tickets t
                  JOIN ticket_types ty ON ty.event_id = t.event_id AND ty.id = t.ticket_type_id
                 WHERE t.purchase_order_id = o.id
                 GROUP BY t.ticket_type_id, ty.name, ty.position,
                          coalesce(t.list_price, t.price_paid)) l) AS lines
  FROM orders o
  JOIN ticketed_events e ON e.event_id = o.event_id
"""


def order_entity(row: Record) -> Order:
    fields = dict(row)
    lines = fields.pop("lines") or []
    ids = fields.pop("ticket_ids") or []
    return Order(
        **{**fields, "id": str(fields["id"])},
        ticket_ids=tuple(str(i) for i in ids),
        lines=tuple(OrderLine(**line) for line in lines),
    )


def _per_ticket(cmd: PlaceOrder) -> tuple[list[str | None], list[str | None], list[str | None]]:
    names: list[str | None] = [a.name for a in cmd.attendees]
    emails: list[str | None] = [a.email for a in cmd.attendees]
    phones: list[str | None] = [a.phone for a in cmd.attendees]
    if not cmd.attendees:
        names = emails = phones = [None] * cmd.size
    return names, emails, phones


async def hold_order(
    conn: asyncpg.Connection,
    cmd: PlaceOrder,
    *,
    now: datetime,
    hold_minutes: float,
    expected_price: int | None = None,
    fingerprint: str | None = None,
    messages: Messages = Messages.ORDER,
) -> Held | KeyTaken:
    """The order's hold, one statement. `fingerprint` stands for the key's request when the
    caller is not an order (the seed's purchase keeps its own); `messages` words the refusals."""
    names, emails, phones = _per_ticket(cmd)
    try:
        result: dict[str, Any] = await conn.fetchval(
            HOLD,
            cmd.event_id,
            cmd.buyer_id,
            [item.ticket_type_id for item in cmd.items],
            [item.quantity for item in cmd.items],
            names,
            emails,
            phones,
            cmd.customer_name,
            cmd.customer_email,
            cmd.customer_phone,
            cmd.promo_code,
            cmd.idempotency_key,
            fingerprint or cmd.fingerprint(),
            expected_price,
            now,
            hold_minutes,
            DEFAULT_MAX_PER_ORDER,
        )
    except asyncpg.RaiseError as exc:
        refused = refusal(
            str(exc.args[0]) if exc.args else "", getattr(exc, "detail", None), messages=messages
        )
        if refused is None:
            raise
        raise refused from None
    if result["outcome"] == "key_taken":
        return KeyTaken()
    return Held(order_id=str(result["order_id"]), free=bool(result["free"]))


class SqlOrderStore(SqlPurchaseRequests):
    """One request's connection; the use case opens the transactions it needs."""

    def __init__(
        self, conn: asyncpg.Connection, events: OutboxTicketEvents, *, hold_minutes: float
    ) -> None:
        super().__init__(conn)
        self.events = events
        self.hold_minutes = hold_minutes

    def transaction(self) -> Any:
        return self.conn.transaction()

    async def may_be_free(self, cmd: PlaceOrder) -> bool:
        if cmd.promo_code is not None:
            return True
        return bool(
            await self.conn.fetchval(
                """SELECT EXISTS (SELECT 1 FROM ticket_types
                                   WHERE event_id = $1 AND id = ANY($2::text[]) AND price = 0)""",
                cmd.event_id,
                [item.ticket_type_id for item in cmd.items],
            )
        )

    async def hold(self, cmd: PlaceOrder, *, now: datetime) -> Held | KeyTaken:
        return await hold_order(self.conn, cmd, now=now, hold_minutes=self.hold_minutes)

    async def order(self, order_id: str) -> Order | None:
        return await order_of(self.conn, order_id)

    async def tickets(self, order_id: str) -> list[Ticket]:
        return await tickets_of_order(self.conn, order_id)

    async def announce_activated(self, order_id: str, *, at: datetime) -> None:
        for ticket in await self.tickets(order_id):
            await self.events.activated(ticket, at=at)

    async def record_opened_payment(self, order_id: str, opened: OpenedPayment) -> None:
        await self.conn.execute(
            """UPDATE ticket_transactions
                  SET snap_token = $2, redirect_url = $3, payment_expires_at = $4,
                      payment_gateway_response = COALESCE(payment_gateway_response, '{}'::jsonb)
                          || jsonb_build_object('opened', $5::jsonb),
                      updated_at = now()
                WHERE purchase_order_id = $1""",
            uuid.UUID(order_id),
            opened.snap_token,
            opened.redirect_url,
            opened.expires_at,
            opened.model_dump(mode="json"),
        )

    async def release(self, order_id: str, *, now: datetime) -> int:
        released = await end_pending_tickets(
            self.conn, order_id, TicketStatus.EXPIRED, now=now, by=None, reason=None
        )
        for ticket in released:
            await self.events.expired(ticket, at=now)
        return len(released)


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


async def order_of(conn: asyncpg.Connection, order_id: str) -> Order | None:
    uid = _uuid(order_id)
    if uid is None:
        return None
    row = await conn.fetchrow(ORDER_VIEW + " WHERE o.id = $1", uid)
    return order_entity(row) if row else None


async def orders_of_buyer(
    conn: asyncpg.Connection,
    buyer_id: str,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Order]:
    found = await conn.fetch(
        ORDER_VIEW
        + """ WHERE o.buyer_id = $1
                AND ($2::timestamptz IS NULL OR (o.created_at, o.id) < ($2, $3::uuid))
              ORDER BY o.created_at DESC, o.id DESC
              LIMIT $4""",
        buyer_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [order_entity(r) for r in found]


async def tickets_of_order(
    conn: asyncpg.Connection, order_id: str, *, lock: bool = False
) -> list[Ticket]:
    uid = _uuid(order_id)
    if uid is None:
        return []
    found = await conn.fetch(
        TICKET_VIEW
        + " WHERE t.purchase_order_id = $1"
        + " ORDER BY t.id <> x.ticket_id, t.ticket_type_id, t.id"
        + (" FOR UPDATE OF t" if lock else ""),
        uid,
    )
    return rows.tickets(list(found))


async def end_pending_tickets(
    conn: asyncpg.Connection,
    order_id: str,
    status: TicketStatus,
    *,
    now: datetime,
    by: str | None,
    reason: str | None,
) -> list[Ticket]:
    """The order's pending tickets end (expired or cancelled); their seats go back on sale.

    Tickets are locked first, the event after, as the sweeper and the payment events do; the
    types', quotas' counters and the promo use follow at commit (0013's trigger).
    """
    uid = uuid.UUID(order_id)
    # The order's transaction first, as a payment event locks it, then its tickets by id.
    await conn.execute(
        "SELECT 1 FROM ticket_transactions WHERE purchase_order_id = $1 FOR UPDATE", uid
    )
    locked = await conn.fetch(
        """SELECT id, event_id FROM tickets
            WHERE purchase_order_id = $1 AND status = 'pending'
            ORDER BY id FOR UPDATE""",
        uid,
    )
    if not locked:
        return []
    ids = [r["id"] for r in locked]
    for ticket_id in ids:
        await repository.set_ticket_status(
            conn, ticket_id, status, now=now, cancelled_by=by, cancel_reason=reason
        )
    await repository.move_seats(conn, locked[0]["event_id"], held=-len(ids))
    await conn.execute(
        """UPDATE ticket_transactions SET status = 'cancelled', updated_at = $2
            WHERE purchase_order_id = $1 AND status = 'pending'""",
        uid,
        now,
    )
    ended = [await repository.ticket_view(conn, ticket_id) for ticket_id in ids]
    return [ticket for ticket in ended if ticket is not None]


class SqlOrderReader:
    """Reading orders (one request's connection)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def order(self, order_id: str) -> Order | None:
        return await order_of(self.conn, order_id)

    async def tickets(self, order_id: str) -> list[Ticket]:
        return await tickets_of_order(self.conn, order_id)

    async def event_host(self, event_id: str) -> str | None:
        return await repository.event_host(self.conn, event_id)

    async def orders_of_buyer(
        self, buyer_id: str, *, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[Order]:
        return await orders_of_buyer(self.conn, buyer_id, after=after, limit=limit)


class SqlOrderCancellation:
    """Cancelling an order in one transaction (one request's connection)."""

    def __init__(self, conn: asyncpg.Connection, events: OutboxTicketEvents) -> None:
        self.conn = conn
        self.events = events

    def transaction(self) -> Any:
        return self.conn.transaction()

    async def lock_order(self, order_id: str) -> tuple[Order, list[DoorTicket]] | None:
        uid = _uuid(order_id)
        if uid is None:
            return None
        await self.conn.execute(
            "SELECT 1 FROM ticket_transactions WHERE purchase_order_id = $1 FOR UPDATE", uid
        )
        await self.conn.execute(
            "SELECT 1 FROM tickets WHERE purchase_order_id = $1 ORDER BY id FOR UPDATE", uid
        )
        order = await order_of(self.conn, order_id)
        if order is None:
            return None
        tickets = await tickets_of_order(self.conn, order_id)
        return order, [DoorTicket.of(t) for t in tickets]

    async def release(self, order_id: str, *, by: str, reason: str, now: datetime) -> None:
        ended = await end_pending_tickets(
            self.conn, order_id, TicketStatus.CANCELLED, now=now, by=by, reason=reason
        )
        for ticket in ended:
            await self.events.cancelled(ticket, at=now, by=by, reason=reason)

    async def cancel_ticket(self, ticket: DoorTicket, *, by: str, reason: str) -> None:
        now = await self.conn.fetchval("SELECT now()")
        uid = uuid.UUID(ticket.id)
        await repository.set_ticket_status(
            self.conn, uid, TicketStatus.CANCELLED, now=now, cancelled_by=by, cancel_reason=reason
        )
        await repository.move_seats(self.conn, ticket.event_id, sold=-1)
        view = await repository.ticket_view(self.conn, uid)
        assert view is not None
        await self.events.cancelled(view, at=now, by=by, reason=reason)

    async def request_refund(self, ticket: DoorTicket, *, amount: int, reason: str) -> None:
        view = await repository.ticket_view(self.conn, uuid.UUID(ticket.id))
        assert view is not None
        await self.events.refund_requested(view, amount=amount, reason=reason)
