"""SQL for the sales report: tickets of receipted orders by WIB day and type, receipt totals."""

from collections.abc import Sequence

import asyncpg

from ticket_service.adapters import repository
from ticket_service.domain.sales import PromoCodeUse, SalesRow, SalesTotals

# A ticket counts as sold on its receipt's day, and as refunded on the day it stopped being
# valid (refunded, or cancelled with its money going back). Its PBJT uses its receipt's rate.
ROWS = """
WITH moves AS (
    SELECT (r.issued_at AT TIME ZONE 'Asia/Jakarta')::date AS day, t.ticket_type_id,
           1 AS sold, 0 AS refunded, t.price_paid AS gross, 0 AS refunds, r.pbjt_rate
      FROM receipts r JOIN tickets t ON t.purchase_order_id = r.order_id
     WHERE r.event_id = $1 AND r.kind = 'receipt'
    UNION ALL
    SELECT (COALESCE(t.refunded_at, t.cancelled_at, t.updated_at)
                AT TIME ZONE 'Asia/Jakarta')::date,
           t.ticket_type_id, 0, 1, 0, t.price_paid, r.pbjt_rate
      FROM receipts r JOIN tickets t ON t.purchase_order_id = r.order_id
     WHERE r.event_id = $1 AND r.kind = 'receipt' AND t.status IN ('refunded', 'cancelled')
)
SELECT m.day, COALESCE(m.ticket_type_id, 'default') AS ticket_type_id,
       COALESCE(tt.name, 'Reguler') AS ticket_type_name,
       sum(m.sold)::int AS sold, sum(m.refunded)::int AS refunded,
       sum(m.gross)::bigint AS gross, sum(m.refunds)::bigint AS refunds,
       round(sum((m.gross - m.refunds) * m.pbjt_rate / (100 + m.pbjt_rate)))::bigint AS pbjt
  FROM moves m
  LEFT JOIN ticket_types tt ON tt.event_id = $1 AND tt.id = m.ticket_type_id
 GROUP BY m.day, m.ticket_type_id, tt.name, tt.position
 ORDER BY m.day, tt.position, m.ticket_type_id
"""


class SqlSalesLedger:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def event_host(self, event_id: str) -> str | None:
        return await repository.event_host(self.conn, event_id)

    async def rows(self, event_id: str) -> Sequence[SalesRow]:
        return [
            SalesRow(
                day=row["day"],
                ticket_type_id=row["ticket_type_id"],
                ticket_type_name=row["ticket_type_name"],
                sold=row["sold"],
                refunded=row["refunded"],
                gross=row["gross"],
                refunds=row["refunds"],
                pbjt=row["pbjt"],
            )
            for row in await self.conn.fetch(ROWS, event_id)
        ]

    async def totals(self, event_id: str) -> SalesTotals:
        row = await self.conn.fetchrow(
            """SELECT count(*) FILTER (WHERE kind = 'receipt')::int AS receipts,
                      count(*) FILTER (WHERE kind = 'credit_note')::int AS credit_notes,
                      COALESCE(sum(total) FILTER (WHERE kind = 'receipt'), 0)::bigint AS gross,
                      COALESCE(sum(total) FILTER (WHERE kind = 'credit_note'), 0)::bigint
                          AS refunds,
                      COALESCE(sum(CASE kind WHEN 'receipt' THEN pbjt_amount
                                             ELSE -pbjt_amount END), 0)::bigint AS pbjt,
                      COALESCE(sum(CASE kind WHEN 'receipt' THEN platform_fee
                                             ELSE -platform_fee END), 0)::bigint AS platform_fee,
                      COALESCE(sum(CASE kind WHEN 'receipt' THEN ppn_amount
                                             ELSE -ppn_amount END), 0)::bigint AS ppn
                 FROM receipts WHERE event_id = $1""",
            event_id,
        )
        assert row is not None
        return SalesTotals(**dict(row))

    async def promo_code_uses(self, event_id: str) -> Sequence[PromoCodeUse]:
        found = await self.conn.fetch(
            """SELECT o.promo_code, count(*)::int AS orders, sum(o.discount)::bigint AS discount
                 FROM orders o JOIN receipts r ON r.order_id = o.id AND r.kind = 'receipt'
                WHERE o.event_id = $1 AND o.promo_code IS NOT NULL
                GROUP BY o.promo_code ORDER BY o.promo_code""",
            event_id,
        )
        return [PromoCodeUse(r["promo_code"], r["orders"], r["discount"]) for r in found]
