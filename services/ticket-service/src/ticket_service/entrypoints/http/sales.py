"""The host's sales report of an event: JSON, and CSV for the accountant's spreadsheet."""

import csv
import io
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Response

from ticket_service import bootstrap
from ticket_service.adapters.sales_ledger import SqlSalesLedger
from ticket_service.domain.sales import SalesReport, SalesRow, SalesTotals
from ticket_service.entrypoints.http.door import HostOrAdmin, actor_of
from ticket_service.service_layer.sales_report import sales_report

router = APIRouter(tags=["sales"])

Ledger = Annotated[SqlSalesLedger, Depends(bootstrap.sales_ledger)]
CSV_COLUMNS = (
    "date",
    "ticket_type_id",
    "ticket_type_name",
    "sold",
    "refunded",
    "gross",
    "refunds",
    "net",
    "pbjt",
)


def row_public(row: SalesRow) -> dict[str, Any]:
    return {
        "date": row.day.isoformat(),
        "ticket_type_id": row.ticket_type_id,
        "ticket_type_name": row.ticket_type_name,
        "sold": row.sold,
        "refunded": row.refunded,
        "gross": row.gross,
        "refunds": row.refunds,
        "net": row.net,
        "pbjt": row.pbjt,
    }


def totals_public(totals: SalesTotals) -> dict[str, Any]:
    return {
        "receipts": totals.receipts,
        "credit_notes": totals.credit_notes,
        "gross": totals.gross,
        "refunds": totals.refunds,
        "net": totals.net,
        "pbjt": totals.pbjt,
        "platform_fee": totals.platform_fee,
        "ppn": totals.ppn,
        "host_proceeds": totals.host_proceeds,
    }


def report_public(report: SalesReport) -> dict[str, Any]:
    return {
        "event_id": report.event_id,
        "currency": "IDR",
        "timezone": "Asia/Jakarta",
        "rows": [row_public(row) for row in report.rows],
        "totals": totals_public(report.totals),
        "promo_codes": [
            {"code": use.code, "orders": use.orders, "discount": use.discount}
            for use in report.promo_codes
        ],
    }


def report_csv(report: SalesReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in report.rows:
        writer.writerow(_safe(v) for v in row_public(row).values())
    totals = report.totals
    sold = sum(row.sold for row in report.rows)
    refunded = sum(row.refunded for row in report.rows)
    writer.writerow(
        ["total", "", "", sold, refunded, totals.gross, totals.refunds, totals.net, totals.pbjt]
    )
    return out.getvalue()


def _safe(value: object) -> object:
    """A host-chosen name is never run as a spreadsheet formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@router.get("/events/{event_id:uuid}/sales")
async def event_sales(event_id: UUID, principal: HostOrAdmin, ledger: Ledger) -> dict[str, Any]:
    """Sold, refunded and net per day (WIB) and ticket type; totals as receipted; promo uses."""
    report = await sales_report(ledger, event_id=str(event_id), actor=actor_of(principal))
    return {"data": report_public(report)}


@router.get(
    "/events/{event_id:uuid}/sales.csv",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def event_sales_csv(event_id: UUID, principal: HostOrAdmin, ledger: Ledger) -> Response:
    report = await sales_report(ledger, event_id=str(event_id), actor=actor_of(principal))
    return Response(
        report_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="sales-{event_id}.csv"',
            "Cache-Control": "private, no-store",
        },
    )
