# ruff: noqa: S608 - queries interpolate only the constant column lists below, never input
"""SQL for the waiting list: entries and their place, the offer maker, accepting an offer.

Every transaction here takes the event's row lock first (as purchases and releases do), then
entries and offers, then the type and quota counters, so none of them can wait in a cycle.
"""

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import asyncpg
from servicekit.messaging import Outbox
from ticketing_contracts import WaitlistOffered
from ticketing_contracts.internal_payments import OpenedPayment

from ticket_service.adapters import repository, rows
from ticket_service.adapters.rows import Record
from ticket_service.adapters.ticket_events import OutboxTicketEvents
from ticket_service.domain.tickets import TicketStatus, TransactionStatus, order_id_for
from ticket_service.domain.waitlist import (
    EntryStatus,
    NewEntry,
    OfferOrder,
    OfferStatus,
    Place,
    TypeOnSale,
    WaitlistEntry,
    WaitlistOffer,
)

ENTRY_COLUMNS = """w.id, w.event_id, w.ticket_type_id, w.user_id, w.customer_name,
    w.customer_email, w.customer_phone, w.quantity, w.status, w.joined_at"""
OFFER_COLUMNS = """o.id, o.entry_id, o.event_id, o.ticket_type_id, o.user_id, o.seats, o.price,
    o.status, o.expires_at, o.created_at, o.ticket_id"""

SALES_CLOSED = "now() >= COALESCE(tt.sales_end, e.sales_end, e.starts_at)"

FREE_SEATS = f"""CASE WHEN {SALES_CLOSED} THEN 0 ELSE LEAST(
    e.capacity - e.sold - e.held,
    COALESCE(tt.capacity - tt.sold - tt.held, e.capacity),
    COALESCE((SELECT min(q.size - q.sold - q.held)
                FROM quota_ticket_types qt
                JOIN quotas q ON q.event_id = qt.event_id AND q.id = qt.quota_id
               WHERE qt.event_id = tt.event_id AND qt.ticket_type_id = tt.id), e.capacity)) END"""
"""Seats a hold of type `tt` of event `e` could take: the least free of all three levels (none
once the type's sales have ended: no offer is made for an event under way)."""


def _entry(row: Record) -> WaitlistEntry:
    return WaitlistEntry(
        id=str(row["id"]),
        event_id=row["event_id"],
        ticket_type_id=row["ticket_type_id"],
        user_id=row["user_id"],
        customer_name=row["customer_name"],
        customer_email=row["customer_email"],
        customer_phone=row["customer_phone"],
        quantity=row["quantity"],
        status=EntryStatus(row["status"]),
        joined_at=row["joined_at"],
    )


def _offer(row: Record, prefix: str = "") -> WaitlistOffer:
    ticket_id = row[prefix + "ticket_id"]
    return WaitlistOffer(
        id=str(row[prefix + "id"]),
        entry_id=str(row[prefix + "entry_id"]),
        event_id=row[prefix + "event_id"],
        ticket_type_id=row[prefix + "ticket_type_id"],
        user_id=row[prefix + "user_id"],
        seats=row[prefix + "seats"],
        price=row[prefix + "price"],
        status=OfferStatus(row[prefix + "status"]),
        expires_at=row[prefix + "expires_at"],
        created_at=row[prefix + "created_at"],
        ticket_id=str(ticket_id) if ticket_id else None,
    )


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


async def move_offer_seats(
    conn: asyncpg.Connection, event_id: str, ticket_type_id: str, *, held: int, sold: int = 0
) -> None:
    """Shift held/sold of the event, the type and every quota holding it, in one statement."""
    await conn.execute(
        """WITH e AS (UPDATE ticketed_events SET held = held + $3, sold = sold + $4,
                             updated_at = now()
                       WHERE event_id = $1 RETURNING 1),
                t AS (UPDATE ticket_types SET held = held + $3, sold = sold + $4,
                             updated_at = now()
                       WHERE event_id = $1 AND id = $2 RETURNING 1),
                q AS (UPDATE quotas qu SET held = held + $3, sold = sold + $4, updated_at = now()
                        FROM quota_ticket_types qt
                       WHERE qt.event_id = $1 AND qt.ticket_type_id = $2
                         AND qu.event_id = qt.event_id AND qu.id = qt.quota_id RETURNING 1)
           SELECT (SELECT count(*) FROM e) + (SELECT count(*) FROM t) + (SELECT count(*) FROM q)""",
        event_id,
        ticket_type_id,
        held,
        sold,
    )


async def lock_event(conn: asyncpg.Connection, event_id: str) -> int | None:
    """Lock the event row; the host's offer time in minutes, None when there is no event."""
    minutes: int | None = await conn.fetchval(
        "SELECT waitlist_offer_minutes FROM ticketed_events WHERE event_id = $1 FOR UPDATE",
        event_id,
    )
    return minutes


async def release_offers(conn: asyncpg.Connection, ended: Sequence[WaitlistOffer]) -> None:
    for offer in sorted(ended, key=lambda o: (o.ticket_type_id, o.id)):
        await move_offer_seats(conn, offer.event_id, offer.ticket_type_id, held=-offer.seats)


class SqlWaitlist:
    """Joining, reading and leaving: one request's connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    def transaction(self) -> Any:
        return self.conn.transaction()

    async def lock_event(self, event_id: str) -> bool:
        return await lock_event(self.conn, event_id) is not None

    async def type_on_sale(self, event_id: str, ticket_type_id: str) -> TypeOnSale | None:
        row = await self.conn.fetchrow(
            f"""SELECT tt.max_per_order, e.max_per_user, {FREE_SEATS} AS free_seats,
                       {SALES_CLOSED} AS sales_closed,
                       EXISTS (SELECT 1 FROM waitlist_entries w
                                WHERE w.event_id = tt.event_id AND w.ticket_type_id = tt.id
                                  AND w.status = 'waiting') AS someone_waiting
                  FROM ticket_types tt JOIN ticketed_events e ON e.event_id = tt.event_id
                 WHERE tt.event_id = $1 AND tt.id = $2 AND NOT tt.hidden""",
            event_id,
            ticket_type_id,
        )
        if row is None:
            return None
        return TypeOnSale(
            event_id=event_id,
            ticket_type_id=ticket_type_id,
            max_per_order=row["max_per_order"],
            max_per_user=row["max_per_user"],
            free_seats=max(int(row["free_seats"]), 0),
            someone_waiting=row["someone_waiting"],
            sales_closed=row["sales_closed"],
        )

    async def add_entry(self, new: NewEntry) -> WaitlistEntry | None:
        row = await self.conn.fetchrow(
            f"""INSERT INTO waitlist_entries AS w (id, event_id, ticket_type_id, user_id,
                    customer_name, customer_email, customer_phone, quantity)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                ON CONFLICT (event_id, ticket_type_id, user_id)
                   WHERE status IN ('waiting', 'offered') DO NOTHING
                RETURNING {ENTRY_COLUMNS}""",
            uuid.uuid4(),
            new.event_id,
            new.ticket_type_id,
            new.user_id,
            new.customer_name,
            new.customer_email,
            new.customer_phone,
            new.quantity,
        )
        return _entry(row) if row else None

    async def places_of(self, event_id: str, user_id: str) -> list[Place]:
        found = await self.conn.fetch(
            f"""SELECT {ENTRY_COLUMNS},
                       CASE WHEN w.status = 'waiting' THEN 1 + (
                           SELECT count(*) FROM waitlist_entries a
                            WHERE a.event_id = w.event_id AND a.ticket_type_id = w.ticket_type_id
                              AND a.status = 'waiting'
                              AND (a.joined_at, a.id) < (w.joined_at, w.id)) ELSE 0 END AS position,
                       o.id AS o_id, o.entry_id AS o_entry_id, o.event_id AS o_event_id,
                       o.ticket_type_id AS o_ticket_type_id, o.user_id AS o_user_id,
                       o.seats AS o_seats, o.price AS o_price, o.status AS o_status,
                       o.expires_at AS o_expires_at, o.created_at AS o_created_at,
                       o.ticket_id AS o_ticket_id
                  FROM waitlist_entries w
                  LEFT JOIN waitlist_offers o ON o.entry_id = w.id AND o.status = 'open'
                 WHERE w.event_id = $1 AND w.user_id = $2
                   AND w.status IN ('waiting', 'offered')
                 ORDER BY w.joined_at, w.id""",
            event_id,
            user_id,
        )
        return [
            Place(_entry(r), int(r["position"]), _offer(r, "o_") if r["o_id"] else None)
            for r in found
        ]

    async def leave(self, event_id: str, user_id: str, ticket_type_id: str | None) -> int:
        ended = await self.conn.fetch(
            """UPDATE waitlist_entries SET status = 'left', updated_at = now()
                WHERE event_id = $1 AND user_id = $2 AND ($3::text IS NULL OR ticket_type_id = $3)
                  AND status IN ('waiting', 'offered')
            RETURNING id""",
            event_id,
            user_id,
            ticket_type_id,
        )
        withdrawn = await self.conn.fetch(
            f"""UPDATE waitlist_offers o SET status = 'withdrawn', ended_at = now()
                 WHERE o.entry_id = ANY($1::uuid[]) AND o.status = 'open'
             RETURNING {OFFER_COLUMNS}""",
            [r["id"] for r in ended],
        )
        await release_offers(self.conn, [_offer(r) for r in withdrawn])
        return len(ended)

    async def host_of(self, event_id: str) -> str | None:
        return await repository.event_host(self.conn, event_id)

    async def set_offer_minutes(self, event_id: str, minutes: int) -> None:
        await self.conn.execute(
            """UPDATE ticketed_events SET waitlist_offer_minutes = $2, updated_at = now()
                WHERE event_id = $1""",
            event_id,
            minutes,
        )


class SqlOfferMaker:
    def __init__(self, conn: asyncpg.Connection, outbox: Outbox) -> None:
        self.conn = conn
        self.outbox = outbox

    def transaction(self) -> Any:
        return self.conn.transaction()

    async def events_to_serve(self, *, now: datetime, limit: int) -> list[str]:
        found = await self.conn.fetch(
            """SELECT w.event_id FROM waitlist_entries w
                 JOIN ticketed_events e ON e.event_id = w.event_id
                WHERE w.status = 'waiting' AND e.sold + e.held < e.capacity
               UNION
               SELECT event_id FROM waitlist_offers WHERE status = 'open' AND expires_at <= $1
               LIMIT $2""",
            now,
            limit,
        )
        return [r["event_id"] for r in found]

    async def lock_event(self, event_id: str) -> int | None:
        return await lock_event(self.conn, event_id)

    async def expire_due_offers(self, event_id: str, *, now: datetime) -> list[WaitlistOffer]:
        due = await self.conn.fetch(
            f"""WITH due AS (
                    UPDATE waitlist_offers o SET status = 'expired', ended_at = $2
                     WHERE o.event_id = $1 AND o.status = 'open' AND o.expires_at <= $2
                 RETURNING {OFFER_COLUMNS}),
                lapsed AS (
                    UPDATE waitlist_entries w SET status = 'lapsed', updated_at = $2
                      FROM due WHERE w.id = due.entry_id AND w.status = 'offered')
                SELECT * FROM due""",
            event_id,
            now,
        )
        expired = [_offer(r) for r in due]
        await release_offers(self.conn, expired)
        return expired

    async def waiting_line(self, event_id: str, *, limit: int) -> list[WaitlistEntry]:
        found = await self.conn.fetch(
            f"""SELECT {ENTRY_COLUMNS} FROM waitlist_entries w
                 WHERE w.event_id = $1 AND w.status = 'waiting'
                 ORDER BY w.joined_at, w.id LIMIT $2""",
            event_id,
            limit,
        )
        return [_entry(r) for r in found]

    async def free_seats(self, event_id: str, ticket_type_id: str) -> int:
        free = await self.conn.fetchval(
            f"""SELECT {FREE_SEATS}
                  FROM ticket_types tt JOIN ticketed_events e ON e.event_id = tt.event_id
                 WHERE tt.event_id = $1 AND tt.id = $2""",
            event_id,
            ticket_type_id,
        )
        return max(int(free or 0), 0)

    async def make_offer(self, entry: WaitlistEntry, *, expires_at: datetime) -> WaitlistOffer:
        row = await self.conn.fetchrow(
            f"""WITH o AS (
                    INSERT INTO waitlist_offers (id, entry_id, event_id, ticket_type_id, user_id,
                           seats, price, expires_at)
                    SELECT $1, w.id, w.event_id, w.ticket_type_id, w.user_id, w.quantity,
                           tt.price, $3
                      FROM waitlist_entries w
                      JOIN ticket_types tt
                        ON tt.event_id = w.event_id AND tt.id = w.ticket_type_id
                     WHERE w.id = $2
                 RETURNING *),
                offered AS (
                    UPDATE waitlist_entries SET status = 'offered', updated_at = now()
                     WHERE id = $2)
                SELECT {OFFER_COLUMNS} FROM o""",
            uuid.uuid4(),
            uuid.UUID(entry.id),
            expires_at,
        )
        assert row is not None
        offer = _offer(row)
        await move_offer_seats(self.conn, offer.event_id, offer.ticket_type_id, held=offer.seats)
        return offer

    async def record_offered(self, offer: WaitlistOffer) -> None:
        row = await self.conn.fetchrow(
            """SELECT w.customer_name, w.customer_email, tt.name AS type_name, e.title,
                      e.starts_at, e.venue, e.host_id
                 FROM waitlist_entries w
                 JOIN ticket_types tt ON tt.event_id = w.event_id AND tt.id = w.ticket_type_id
                 JOIN ticketed_events e ON e.event_id = w.event_id
                WHERE w.id = $1""",
            uuid.UUID(offer.entry_id),
        )
        assert row is not None
        payload = WaitlistOffered(
            offer_id=offer.id,
            event_id=offer.event_id,
            ticket_type_id=offer.ticket_type_id,
            ticket_type_name=row["type_name"],
            user_id=offer.user_id,
            customer_name=row["customer_name"],
            customer_email=row["customer_email"],
            seats=offer.seats,
            price=offer.price,
            expires_at=offer.expires_at,
            event_title=row["title"],
            event_starts_at=row["starts_at"],
            event_venue=row["venue"],
            host_id=row["host_id"],
        )
        await self.outbox.add(self.conn, payload)


class SqlOfferAcceptance:
    def __init__(self, conn: asyncpg.Connection, events: OutboxTicketEvents) -> None:
        self.conn = conn
        self.events = events

    def transaction(self) -> Any:
        return self.conn.transaction()

    async def lock_offer(self, offer_id: str) -> WaitlistOffer | None:
        uid = _uuid(offer_id)
        if uid is None:
            return None
        event_id = await self.conn.fetchval(
            "SELECT event_id FROM waitlist_offers WHERE id = $1", uid
        )
        if event_id is None:
            return None
        await lock_event(self.conn, event_id)  # the event first, as the offer maker takes them
        row = await self.conn.fetchrow(
            f"SELECT {OFFER_COLUMNS} FROM waitlist_offers o WHERE o.id = $1 FOR UPDATE", uid
        )
        return _offer(row) if row else None

    async def hold_for_offer(
        self, offer: WaitlistOffer, *, hold_expires_at: datetime | None, now: datetime
    ) -> OfferOrder:
        entry = await self.conn.fetchrow(
            """SELECT customer_name, customer_email, customer_phone FROM waitlist_entries
                WHERE id = $1""",
            uuid.UUID(offer.entry_id),
        )
        assert entry is not None
        # The general-sale guard (migration 0050) lets these tickets take the offer's seats.
        await self.conn.execute("SELECT set_config('ticketing.waitlist_handover', 'on', true)")
        free = offer.price == 0
        order_id = uuid.uuid4()
        await self.conn.execute(
            """INSERT INTO orders (id, event_id, buyer_id, status, total, customer_name,
                   customer_email, customer_phone, hold_expires_at, paid_at, created_at,
                   updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
                       CASE WHEN $4 = 'paid' THEN $10::timestamptz END, $10, $10)""",
            order_id,
            offer.event_id,
            offer.user_id,
            "paid" if free else "pending",
            offer.price * offer.seats,
            entry["customer_name"],
            entry["customer_email"],
            entry["customer_phone"],
            hold_expires_at,
            now,
        )
        ticket_ids = [
            await repository.insert_ticket(
                self.conn,
                event_id=offer.event_id,
                user_id=offer.user_id,
                price=offer.price,
                currency="IDR",
                status=TicketStatus.ACTIVE if free else TicketStatus.PENDING,
                holder_name=entry["customer_name"],
                holder_email=entry["customer_email"],
                holder_phone=entry["customer_phone"],
                hold_expires_at=hold_expires_at,
                now=now,
            )
            for _ in range(offer.seats)
        ]
        first = ticket_ids[0]
        await self.conn.execute(
            """UPDATE tickets SET ticket_type_id = $2, purchase_order_id = $3
                WHERE id = ANY($1::uuid[])""",
            ticket_ids,
            offer.ticket_type_id,
            order_id,
        )
        transaction_id = await repository.insert_transaction(
            self.conn,
            ticket_id=first,
            user_id=offer.user_id,
            event_id=offer.event_id,
            order_id=order_id_for(str(first)),
            amount=offer.price * offer.seats,
            currency="IDR",
            status=TransactionStatus.COMPLETED if free else TransactionStatus.PENDING,
            payment_method="free" if free else None,
            now=now,
        )
        await self.conn.execute(
            "UPDATE ticket_transactions SET purchase_order_id = $2 WHERE id = $1",
            transaction_id,
            order_id,
        )
        await self.conn.execute(
            "UPDATE orders SET payment_order_id = $2 WHERE id = $1",
            order_id,
            None if free else order_id_for(str(first)),
        )
        if free:  # the held seats are sold at once
            await move_offer_seats(
                self.conn, offer.event_id, offer.ticket_type_id, held=-offer.seats, sold=offer.seats
            )
        await self.conn.execute(
            """WITH taken AS (
                   UPDATE waitlist_offers SET status = 'accepted', ticket_id = $2, ended_at = $3
                    WHERE id = $1 RETURNING entry_id)
               UPDATE waitlist_entries SET status = 'accepted', updated_at = $3
                 FROM taken WHERE waitlist_entries.id = taken.entry_id""",
            uuid.UUID(offer.id),
            first,
            now,
        )
        taken = replace(offer, status=OfferStatus.ACCEPTED, ticket_id=str(first))
        return await self._order(taken, order_id)

    async def order_of(self, offer: WaitlistOffer) -> OfferOrder | None:
        if offer.ticket_id is None:
            return None
        order_id = await self.conn.fetchval(
            "SELECT purchase_order_id FROM tickets WHERE id = $1", uuid.UUID(offer.ticket_id)
        )
        return await self._order(offer, order_id) if order_id else None

    async def reopen_offer(self, offer: WaitlistOffer, *, now: datetime) -> OfferOrder | None:
        await lock_event(self.conn, offer.event_id)
        order = await self.order_of(offer)
        if order is None:
            return None
        pending = [uuid.UUID(t.id) for t in order.tickets if t.status == TicketStatus.PENDING]
        for ticket_id in pending:
            await repository.set_ticket_status(self.conn, ticket_id, TicketStatus.EXPIRED, now=now)
        await repository.cancel_transactions_of(self.conn, pending, now)
        await self.conn.execute(
            "UPDATE orders SET status = 'expired', cancelled_at = $2, updated_at = $2"
            " WHERE id = $1 AND status = 'pending'",
            uuid.UUID(order.purchase_order_id),
            now,
        )
        # The tickets' hold ends and the offer's begins again, under the event lock: the seats
        # are never free in between. (Type and quota counters follow a ticket's status at
        # commit, so they get the seats back there and the offer's hold here.)
        await repository.move_seats(self.conn, offer.event_id, held=-len(pending))
        await move_offer_seats(self.conn, offer.event_id, offer.ticket_type_id, held=len(pending))
        await self.conn.execute(
            """WITH again AS (
                   UPDATE waitlist_offers SET status = 'open', ticket_id = NULL, ended_at = NULL
                    WHERE id = $1 RETURNING entry_id)
               UPDATE waitlist_entries SET status = 'offered', updated_at = $2
                 FROM again WHERE waitlist_entries.id = again.entry_id""",
            uuid.UUID(offer.id),
            now,
        )
        return await self._order(offer, uuid.UUID(order.purchase_order_id))

    async def record_opened_payment(self, order: OfferOrder, opened: OpenedPayment) -> None:
        await repository.record_opened_payment(
            self.conn,
            uuid.UUID(order.first.id),
            snap_token=opened.snap_token,
            redirect_url=opened.redirect_url,
            expires_at=opened.expires_at,
            raw=opened.model_dump(mode="json"),
        )

    async def _order(self, offer: WaitlistOffer, order_id: uuid.UUID) -> OfferOrder:
        found = await self.conn.fetch(
            repository.TICKET_VIEW + " WHERE t.purchase_order_id = $1 ORDER BY t.created_at, t.id",
            order_id,
        )
        type_name = await self.conn.fetchval(
            "SELECT name FROM ticket_types WHERE event_id = $1 AND id = $2",
            offer.event_id,
            offer.ticket_type_id,
        )
        tickets = [rows.ticket(r) for r in found]
        first = next(t for t in tickets if t.order_id is not None)
        ordered = [first, *(t for t in tickets if t is not first)]
        return OfferOrder(str(order_id), offer, type_name or offer.ticket_type_id, ordered)
