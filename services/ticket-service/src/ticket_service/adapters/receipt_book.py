# ruff: noqa: S608 - queries interpolate only the constant column list below, never input
"""SQL for receipts: the paid order's facts, the per-host yearly counters, the issued documents."""

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from ticket_service.adapters.rows import Record
from ticket_service.domain.receipts import (
    PaidOrder,
    Receipt,
    ReceiptItem,
    ReceiptKind,
    TaxLines,
    TaxRates,
    receipt_label,
)
from ticket_service.service_layer.receipts import EventTax

RECEIPT_COLUMNS = """r.id, r.kind, r.host_id, r.year, r.number, r.issued_at, r.total, r.pbjt_rate,
    r.pbjt_amount, r.platform_fee, r.ppn_rate, r.ppn_amount, r.document, r.refund_key,
    c.kind AS credits_kind, c.year AS credits_year, c.number AS credits_number"""
RECEIPTS = f"""SELECT {RECEIPT_COLUMNS} FROM receipts r
    LEFT JOIN receipts c ON c.id = r.credits_receipt_id"""


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _document(order: PaidOrder, rates: TaxRates) -> dict[str, Any]:
    """The order as issued: later changes to the event or its types never alter a receipt."""
    return {
        "order_id": order.order_id,
        "status": order.status,
        "event_id": order.event_id,
        "event_title": order.event_title,
        "event_venue": order.event_venue,
        "event_starts_at": order.event_starts_at.isoformat(),
        "buyer_id": order.buyer_id,
        "buyer_name": order.buyer_name,
        "buyer_email": order.buyer_email,
        "items": [
            {
                "ticket_type_id": i.ticket_type_id,
                "name": i.name,
                "unit_price": i.unit_price,
                "quantity": i.quantity,
            }
            for i in order.items
        ],
        "discount": order.discount,
        "promo_code": order.promo_code,
        "total": order.total,
        "payment_method": order.payment_method,
        "paid_at": order.paid_at.isoformat(),
        "platform_fee_rate": str(rates.platform_fee),
    }


def _order_of(document: dict[str, Any], host_id: str, pbjt_rate: Decimal) -> PaidOrder:
    return PaidOrder(
        order_id=document["order_id"],
        status=document["status"],
        host_id=host_id,
        event_id=document["event_id"],
        event_title=document["event_title"],
        event_venue=document["event_venue"],
        event_starts_at=datetime.fromisoformat(document["event_starts_at"]),
        buyer_id=document["buyer_id"],
        buyer_name=document["buyer_name"],
        buyer_email=document["buyer_email"],
        items=tuple(ReceiptItem(**item) for item in document["items"]),
        discount=document["discount"],
        promo_code=document["promo_code"],
        total=document["total"],
        payment_method=document["payment_method"],
        paid_at=datetime.fromisoformat(document["paid_at"]),
        pbjt_rate=pbjt_rate,
    )


def _receipt(row: Record) -> Receipt:
    document = row["document"]
    rates = TaxRates(row["pbjt_rate"], Decimal(document["platform_fee_rate"]), row["ppn_rate"])
    credits = None
    if row["credits_number"] is not None:
        kind = ReceiptKind(row["credits_kind"])
        credits = receipt_label(kind, row["credits_year"], row["credits_number"])
    total = row["total"]
    return Receipt(
        id=str(row["id"]),
        kind=ReceiptKind(row["kind"]),
        host_id=row["host_id"],
        year=row["year"],
        number=row["number"],
        order=_order_of(document, row["host_id"], row["pbjt_rate"]),
        issued_at=row["issued_at"],
        rates=rates,
        lines=TaxLines(
            total=total,
            pbjt_base=total - row["pbjt_amount"],
            pbjt=row["pbjt_amount"],
            platform_fee=row["platform_fee"],
            ppn=row["ppn_amount"],
        ),
        credits=credits,
        refund_key=row["refund_key"],
    )


class SqlReceiptBook:
    """Runs in the caller's transaction (the connection's)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    def transaction(self) -> Any:
        return self.conn.transaction()

    async def paid_order(self, order_id: str) -> PaidOrder | None:
        uid = _uuid(order_id)
        if uid is None:
            return None
        row = await self.conn.fetchrow(
            """SELECT o.id, o.status, o.event_id, o.buyer_id, o.customer_name, o.customer_email,
                      o.discount, o.promo_code, o.total, COALESCE(o.paid_at, now()) AS paid_at,
                      e.host_id, e.title, e.venue, e.starts_at, e.pbjt_rate,
                      (SELECT x.payment_method FROM ticket_transactions x
                        WHERE x.purchase_order_id = o.id AND x.payment_method IS NOT NULL
                        ORDER BY x.created_at LIMIT 1) AS payment_method,
                      -- (type id, name, unit price, quantity) per type and price, in one read
                      ARRAY(
                        SELECT (COALESCE(t.ticket_type_id, 'default'), COALESCE(tt.name, 'Reguler'),
                                COALESCE(t.list_price, tt.price, t.price_paid), count(*)::int)
                          FROM tickets t
                          LEFT JOIN ticket_types tt
                                 ON tt.event_id = t.event_id AND tt.id = t.ticket_type_id
                         WHERE t.purchase_order_id = o.id
                         GROUP BY t.ticket_type_id, tt.name, tt.position,
                                  COALESCE(t.list_price, tt.price, t.price_paid)
                         ORDER BY tt.position, t.ticket_type_id,
                                  COALESCE(t.list_price, tt.price, t.price_paid)) AS items
                 FROM orders o JOIN ticketed_events e ON e.event_id = o.event_id
                WHERE o.id = $1""",
            uid,
        )
        if row is None:
            return None
        return PaidOrder(
            order_id=str(row["id"]),
            status=row["status"],
            host_id=row["host_id"],
            event_id=row["event_id"],
            event_title=row["title"],
            event_venue=row["venue"],
            event_starts_at=row["starts_at"],
            buyer_id=row["buyer_id"],
            buyer_name=row["customer_name"],
            buyer_email=row["customer_email"],
            items=tuple(
                ReceiptItem(type_id, name, unit_price, quantity)
                for type_id, name, unit_price, quantity in row["items"]
            ),
            discount=row["discount"],
            promo_code=row["promo_code"],
            total=row["total"],
            payment_method=row["payment_method"],
            paid_at=row["paid_at"],
            pbjt_rate=row["pbjt_rate"],
        )

    async def receipt_of(self, order_id: str) -> Receipt | None:
        uid = _uuid(order_id)
        if uid is None:
            return None
        row = await self.conn.fetchrow(
            RECEIPTS + " WHERE r.order_id = $1 AND r.kind = 'receipt'", uid
        )
        return _receipt(row) if row else None

    async def credit_notes_of(self, order_id: str) -> Sequence[Receipt]:
        found = await self.conn.fetch(
            RECEIPTS
            + " WHERE r.order_id = $1 AND r.kind = 'credit_note' ORDER BY r.issued_at, r.number",
            uuid.UUID(order_id),
        )
        return [_receipt(row) for row in found]

    async def hold_counter(self, host_id: str, year: int, kind: ReceiptKind) -> None:
        await self.conn.execute(
            """INSERT INTO receipt_counters (host_id, year, kind, last_number)
               VALUES ($1, $2, $3, 0)
               ON CONFLICT (host_id, year, kind)
               DO UPDATE SET last_number = receipt_counters.last_number""",
            host_id,
            year,
            str(kind),
        )

    async def issue(self, receipt: Receipt) -> Receipt:
        # The upsert locks the counter row until commit: the next payment of this host waits,
        # and a rollback leaves the counter as it was. A credit note points at its receipt.
        number: int = await self.conn.fetchval(
            """WITH counter AS (
                   INSERT INTO receipt_counters (host_id, year, kind, last_number)
                   VALUES ($3, $4, $2, 1)
                   ON CONFLICT (host_id, year, kind)
                   DO UPDATE SET last_number = receipt_counters.last_number + 1
                   RETURNING last_number)
               INSERT INTO receipts (id, kind, host_id, year, number, order_id, event_id,
                   credits_receipt_id, refund_key, issued_at, total, pbjt_rate, pbjt_amount,
                   platform_fee, ppn_rate, ppn_amount, document)
               SELECT $1, $2, $3, $4, counter.last_number, $5, $6,
                      CASE WHEN $2 = 'credit_note' THEN
                          (SELECT r.id FROM receipts r
                            WHERE r.order_id = $5 AND r.kind = 'receipt') END,
                      $7, $8, $9, $10, $11, $12, $13, $14, $15
                 FROM counter
               RETURNING number""",
            uuid.UUID(receipt.id),
            str(receipt.kind),
            receipt.host_id,
            receipt.year,
            uuid.UUID(receipt.order.order_id),
            receipt.order.event_id,
            receipt.refund_key,
            receipt.issued_at,
            receipt.lines.total,
            receipt.rates.pbjt,
            receipt.lines.pbjt,
            receipt.lines.platform_fee,
            receipt.rates.ppn,
            receipt.lines.ppn,
            _document(receipt.order, receipt.rates),
        )
        return dataclasses.replace(receipt, number=number)

    async def event_tax(self, event_id: str) -> EventTax | None:
        row = await self.conn.fetchrow(
            "SELECT event_id, host_id, pbjt_rate FROM ticketed_events WHERE event_id = $1",
            event_id,
        )
        return EventTax(row["event_id"], row["host_id"], row["pbjt_rate"]) if row else None

    async def set_pbjt_rate(self, event_id: str, rate: Decimal) -> None:
        await self.conn.execute(
            "UPDATE ticketed_events SET pbjt_rate = $2 WHERE event_id = $1", event_id, rate
        )
