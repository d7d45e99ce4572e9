"""SQL for the host's sale setup: ticket types, quotas and their types, promo codes."""

from typing import Any

import asyncpg

from ticket_service.adapters import repository
from ticket_service.adapters.rows import Record
from ticket_service.domain.entities import TicketedEvent
from ticket_service.domain.orders import (
    PromoCode,
    PromoCodeTerms,
    Quota,
    TicketType,
    TicketTypeTerms,
)

TYPE_VIEW = """
SELECT ty.event_id, ty.id, ty.name, ty.description, ty.price, ty.capacity, ty.sold, ty.held,
       ty.sales_start, ty.sales_end, ty.max_per_order, ty.position, ty.hidden,
       (SELECT min(q.size - q.sold - q.held) FROM quotas q
          JOIN quota_ticket_types qt ON qt.event_id = q.event_id AND qt.quota_id = q.id
         WHERE qt.event_id = ty.event_id AND qt.ticket_type_id = ty.id) AS quota_room
  FROM ticket_types ty
"""
QUOTA_VIEW = """
SELECT q.event_id, q.id, q.name, q.size, q.sold, q.held,
       coalesce(array_agg(qt.ticket_type_id ORDER BY qt.ticket_type_id)
                FILTER (WHERE qt.ticket_type_id IS NOT NULL), '{}') AS ticket_type_ids
  FROM quotas q
  LEFT JOIN quota_ticket_types qt ON qt.event_id = q.event_id AND qt.quota_id = q.id
 WHERE q.event_id = $1 AND q.id = $2
 GROUP BY q.event_id, q.id
"""
PROMO_COLUMNS = """event_id, code, percent_off, amount_off, max_uses, max_uses_per_user,
    valid_from, valid_until, ticket_type_ids, uses"""


def ticket_type(row: Record) -> TicketType:
    return TicketType(**dict(row))


def quota(row: Record) -> Quota:
    fields = dict(row)
    return Quota(**{**fields, "ticket_type_ids": tuple(fields["ticket_type_ids"])})


def promo_code(row: Record) -> PromoCode:
    fields = dict(row)
    return PromoCode(**{**fields, "ticket_type_ids": tuple(fields["ticket_type_ids"])})


async def ticket_types_of(conn: asyncpg.Connection, event_id: str) -> list[TicketType]:
    found = await conn.fetch(
        TYPE_VIEW + " WHERE ty.event_id = $1 ORDER BY ty.position, ty.id", event_id
    )
    return [ticket_type(r) for r in found]


class SqlSaleSetup:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    def transaction(self) -> Any:
        return self.conn.transaction()

    async def lock_event(self, event_id: str) -> TicketedEvent | None:
        return await repository.lock_event(self.conn, event_id)

    async def ticket_type(self, event_id: str, type_id: str) -> TicketType | None:
        row = await self.conn.fetchrow(
            TYPE_VIEW + " WHERE ty.event_id = $1 AND ty.id = $2", event_id, type_id
        )
        return ticket_type(row) if row else None

    async def ticket_types(self, event_id: str) -> list[TicketType]:
        return await ticket_types_of(self.conn, event_id)

    async def put_ticket_type(
        self, event_id: str, type_id: str, terms: TicketTypeTerms
    ) -> TicketType:
        await self.conn.execute(
            """INSERT INTO ticket_types (event_id, id, name, description, price, capacity,
                   sales_start, sales_end, max_per_order, position, hidden)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
               ON CONFLICT (event_id, id) DO UPDATE
                  SET name = $3, description = $4, price = $5, capacity = $6, sales_start = $7,
                      sales_end = $8, max_per_order = $9, position = $10, hidden = $11,
                      updated_at = now()""",
            event_id,
            type_id,
            terms.name,
            terms.description,
            terms.price,
            terms.capacity,
            terms.sales_start,
            terms.sales_end,
            terms.max_per_order,
            terms.position,
            terms.hidden,
        )
        found = await self.ticket_type(event_id, type_id)
        assert found is not None
        return found

    async def seats_taken(self, event_id: str, type_ids: tuple[str, ...]) -> tuple[int, int]:
        row = await self.conn.fetchrow(
            """SELECT coalesce(sum(sold), 0) AS sold, coalesce(sum(held), 0) AS held
                 FROM ticket_types WHERE event_id = $1 AND id = ANY($2::text[])""",
            event_id,
            list(type_ids),
        )
        assert row is not None
        return int(row["sold"]), int(row["held"])

    async def quota(self, event_id: str, quota_id: str) -> Quota | None:
        row = await self.conn.fetchrow(QUOTA_VIEW, event_id, quota_id)
        return quota(row) if row else None

    async def put_quota(
        self, event_id: str, quota_id: str, *, name: str, size: int, type_ids: tuple[str, ...]
    ) -> Quota:
        sold, held = await self.seats_taken(event_id, type_ids)
        await self.conn.execute(
            """INSERT INTO quotas (event_id, id, name, size, sold, held)
               VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (event_id, id) DO UPDATE
                  SET name = $3, size = $4, sold = $5, held = $6, updated_at = now()""",
            event_id,
            quota_id,
            name,
            size,
            sold,
            held,
        )
        await self.conn.execute(
            """DELETE FROM quota_ticket_types
                WHERE event_id = $1 AND quota_id = $2 AND ticket_type_id <> ALL($3::text[])""",
            event_id,
            quota_id,
            list(type_ids),
        )
        await self.conn.execute(
            """INSERT INTO quota_ticket_types (event_id, quota_id, ticket_type_id)
               SELECT $1, $2, unnest($3::text[]) ON CONFLICT DO NOTHING""",
            event_id,
            quota_id,
            list(type_ids),
        )
        found = await self.quota(event_id, quota_id)
        assert found is not None
        return found

    async def promo_code(self, event_id: str, code: str) -> PromoCode | None:
        row = await self.conn.fetchrow(
            f"SELECT {PROMO_COLUMNS} FROM promo_codes WHERE event_id = $1 AND code = $2",  # noqa: S608 - a constant column list
            event_id,
            code,
        )
        return promo_code(row) if row else None

    async def put_promo_code(self, event_id: str, code: str, terms: PromoCodeTerms) -> PromoCode:
        row = await self.conn.fetchrow(
            f"""INSERT INTO promo_codes (event_id, code, percent_off, amount_off, max_uses,
                    max_uses_per_user, valid_from, valid_until, ticket_type_ids)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                ON CONFLICT (event_id, code) DO UPDATE
                   SET percent_off = $3, amount_off = $4, max_uses = $5, max_uses_per_user = $6,
                       valid_from = $7, valid_until = $8, ticket_type_ids = $9, updated_at = now()
             RETURNING {PROMO_COLUMNS}""",  # noqa: S608 - a constant column list
            event_id,
            code,
            terms.percent_off,
            terms.amount_off,
            terms.max_uses,
            terms.max_uses_per_user,
            terms.valid_from,
            terms.valid_until,
            list(terms.ticket_type_ids),
        )
        assert row is not None
        return promo_code(row)
