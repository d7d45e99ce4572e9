"""Receipts and the sales report on the real PostgreSQL: gap-free numbers under concurrent
payments, JSON and PDF, tax lines, credit notes for refunds, the host's report and its CSV.

Orders are made straight in the database (the shape issue 14's orders leave); each payment runs
`issue_receipt` in the transaction that marks its order paid, as activation does.
"""

import asyncio
import json
import re
import uuid
import zlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from notification_gateway.adapters.receipts import ReceiptFetcher, ReceiptUnavailable
from notification_gateway.settings import NotificationSettings
from servicekit.service_tokens import issue_service_token
from servicekit.testing import database_url
from ticket_service.adapters.receipt_book import SqlReceiptBook
from ticket_service.domain.receipts import WIB
from ticket_service.service_layer.receipts import (
    PlatformRates,
    issue_credit_note,
    issue_receipt,
)
from ticket_service.settings import TicketSettings

PLATFORM = PlatformRates(platform_fee=Decimal(5), ppn=Decimal(11))  # the settings' defaults
YEAR = datetime.now(UTC).year


class PaymentRolledBack(Exception):
    pass


async def an_order(
    door: Any,
    event: dict[str, Any],
    *,
    buyer: str | None = None,
    quantity: int = 2,
    discount: int = 0,
    method: str = "bank_transfer",
    type_id: str = "default",
    price: int | None = None,
    promo_code: str = "HEMAT",
) -> dict[str, Any]:
    """An order of `quantity` active tickets of one type, not yet marked paid."""
    order_id = uuid.uuid4()
    buyer = buyer or f"buyer-{uuid.uuid4()}"
    price = event["price"] if price is None else price
    total = price * quantity - discount
    await door.pool.execute(
        """INSERT INTO ticket_types (event_id, id, name, price, position)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
        event["event_id"],
        type_id,
        "Reguler" if type_id == "default" else type_id.upper(),
        price,
        0 if type_id == "default" else 1,
    )
    await door.pool.execute(
        """INSERT INTO orders (id, event_id, buyer_id, status, total, discount, promo_code,
                               customer_name, customer_email)
           VALUES ($1, $2, $3, 'pending', $4, $5, $6, 'Siti Rahma', 'siti@example.id')""",
        order_id,
        event["event_id"],
        buyer,
        total,
        discount,
        promo_code if discount else None,
    )
    for _ in range(quantity):
        ticket = await door.ticket(event, user_id=buyer, price_paid=total // quantity)
        await door.pool.execute(
            "UPDATE tickets SET purchase_order_id = $2, ticket_type_id = $3 WHERE id = $1",
            uuid.UUID(ticket["id"]),
            order_id,
            type_id,
        )
        await door.pool.execute(
            """UPDATE ticket_transactions SET purchase_order_id = $2, payment_method = $3
                WHERE ticket_id = $1""",
            uuid.UUID(ticket["id"]),
            order_id,
            method,
        )
    await door.pool.execute(
        "UPDATE ticket_types SET sold = sold + $3 WHERE event_id = $1 AND id = $2",
        event["event_id"],
        type_id,
        quantity,
    )
    return {
        "id": str(order_id),
        "buyer": buyer,
        "total": total,
        "host_id": event["host_id"],
        "ticket_id": ticket["id"],
    }


async def pay(conn: asyncpg.Connection, order_id: str, *, roll_back: bool = False) -> int:
    """Mark the order paid and issue its receipt in one transaction; its number."""
    async with conn.transaction():
        await conn.execute(
            "UPDATE orders SET status = 'paid', paid_at = now() WHERE id = $1", uuid.UUID(order_id)
        )
        receipt = await issue_receipt(
            SqlReceiptBook(conn), order_id=order_id, platform=PLATFORM, now=datetime.now(UTC)
        )
        await asyncio.sleep(0.01)  # hold the host's counter a little, as real work would
        if roll_back:
            raise PaymentRolledBack()
    return receipt.number


def _page_text(pdf: bytes) -> bytes:
    """The PDF's deflated page content, to look for words in it. Each stream is read by its
    /Length: compressed bytes may end in a line break (a pattern up to `endstream` then cut one)."""
    found = re.finditer(rb"/Length (\d+) >>\nstream\n", pdf)
    streams = (pdf[m.end() : m.end() + int(m[1])] for m in found)
    return b"".join(zlib.decompress(s) for s in streams if s.startswith(b"x"))


async def test_concurrent_payments_of_one_host_get_numbers_without_gaps(door: Any) -> None:
    event = await door.event()
    other_host = await door.event()
    orders = [await an_order(door, event, quantity=1) for _ in range(12)]
    other = await an_order(door, other_host, quantity=1)
    dsn = database_url("ticket_service_door_test")

    async def one(i: int, order: dict[str, Any]) -> int | None:
        conn = await asyncpg.connect(dsn)  # twelve payments, twelve connections
        await conn.set_type_codec(
            "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )
        try:
            return await pay(conn, order["id"], roll_back=i % 3 == 0)
        except PaymentRolledBack:
            return None
        finally:
            await conn.close()

    numbers = await asyncio.gather(*(one(i, o) for i, o in enumerate(orders)))
    assert sorted(n for n in numbers if n is not None) == list(range(1, 9))
    stored = await door.pool.fetch(
        "SELECT number FROM receipts WHERE host_id = $1 AND kind = 'receipt' ORDER BY number",
        event["host_id"],
    )
    assert [r["number"] for r in stored] == list(range(1, 9))
    # The rolled-back orders get the next numbers when they are paid after all: still no gap.
    async with door.pool.acquire() as conn:
        late = [await pay(conn, orders[i]["id"]) for i in (0, 3)]
        assert late == [9, 10]
        assert await pay(conn, other["id"]) == 1  # every host numbers on its own


async def test_buyer_reads_the_receipt_as_json_and_pdf_in_either_language(door: Any) -> None:
    event = await door.event(price=150_000)
    order = await an_order(door, event, quantity=2, discount=50_000, method="gopay")
    async with door.pool.acquire() as conn:
        number = await pay(conn, order["id"])
    path = f"/orders/{order['id']}/receipt"
    buyer = door.auth(order["buyer"])
    async with door.client() as client:
        default = await client.get(path, headers=buyer)
        english = await client.get(path, headers={**buyer, "Accept-Language": "en-US,en;q=0.9"})
        pdf = await client.get(path, headers={**buyer, "Accept": "application/pdf"})
        pdf_path = await client.get(path + ".pdf", params={"lang": "en"}, headers=buyer)
        by_host = await client.get(path, headers=door.auth(event["host_id"], "host"))
        stranger = await client.get(path, headers=door.auth("someone-else"))
    assert default.status_code == 200, default.text
    data = default.json()["data"]
    assert data["number"] == f"KW/{YEAR}/{number:06d}"
    assert data["language"] == "id" and data["title"] == "Kwitansi"
    assert data["items"] == [
        {
            "ticket_type_id": "default",
            "name": "Reguler",
            "unit_price": 150_000,
            "quantity": 2,
            "amount": 300_000,
        }
    ]
    assert data["discount"] == 50_000 and data["promo_code"] == "HEMAT"
    assert data["total"] == 250_000
    # Tax-inclusive PBJT at Jakarta's 10 %: 250,000 * 10 / 110 = 22,727.27 -> 22,727.
    assert data["taxes"] == {
        "prices_include_pbjt": True,
        "pbjt_rate": 10.0,
        "pbjt_base": 227_273,
        "pbjt": 22_727,
        "platform_fee_rate": 5.0,
        "platform_fee": 12_500,
        "ppn_rate": 11.0,
        "ppn": 1_375,
        "host_proceeds": 236_125,
    }
    assert data["payment"]["method"] == "gopay"
    assert data["issued_at"].endswith("+07:00")
    assert data["credit_notes"] == []
    assert english.json()["data"]["language"] == "en"
    assert english.json()["data"]["title"] == "Receipt"
    for answer in (pdf, pdf_path):
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/pdf"
        assert answer.content.startswith(b"%PDF-")
    assert by_host.status_code == 200
    assert stranger.status_code == 404


async def test_an_unpaid_order_has_no_receipt_yet(door: Any) -> None:
    event = await door.event()
    order = await an_order(door, event, quantity=1)
    async with door.client() as client:
        answer = await client.get(
            f"/orders/{order['id']}/receipt", headers=door.auth(order["buyer"])
        )
        unknown = await client.get(f"/orders/{uuid.uuid4()}/receipt", headers=door.auth("x"))
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "order_not_paid"
    assert unknown.status_code == 404


async def test_a_refund_produces_a_credit_note_referencing_the_receipt(door: Any) -> None:
    event = await door.event(price=110_000)
    order = await an_order(door, event, quantity=1)
    async with door.pool.acquire() as conn:
        await pay(conn, order["id"])
        for _ in range(2):  # a redelivered refund makes no second note
            async with conn.transaction():
                note = await issue_credit_note(
                    SqlReceiptBook(conn),
                    order_id=order["id"],
                    refunded=110_000,
                    refund_key="refund-1",
                    now=datetime.now(UTC),
                )
    assert note is not None
    async with door.client() as client:
        answer = await client.get(
            f"/orders/{order['id']}/receipt", headers=door.auth(order["buyer"])
        )
    data = answer.json()["data"]
    [credit] = data["credit_notes"]
    assert credit["number"] == f"NK/{YEAR}/000001"
    assert credit["credits"] == data["number"]
    assert credit["amount"] == 110_000
    assert credit["taxes"]["pbjt"] == 10_000


async def test_host_sets_the_pbjt_rate_up_to_ten_percent(door: Any) -> None:
    event = await door.event(price=105_000)
    host = door.auth(event["host_id"], "host")
    path = f"/events/{event['event_id']}/tax"
    async with door.client() as client:
        too_high = await client.put(path, json={"pbjt_rate": 10.5}, headers=host)
        not_host = await client.put(path, json={"pbjt_rate": 5}, headers=door.auth("h", "host"))
        lowered = await client.put(path, json={"pbjt_rate": 5}, headers=host)
        order = await an_order(door, event, quantity=1)
        async with door.pool.acquire() as conn:
            await pay(conn, order["id"])
        receipt = await client.get(
            f"/orders/{order['id']}/receipt", headers=door.auth(order["buyer"])
        )
    assert too_high.status_code == 422
    assert not_host.status_code == 403
    assert lowered.json()["data"]["pbjt_rate"] == 5.0
    assert receipt.json()["data"]["taxes"]["pbjt"] == 5_000  # 105,000 * 5 / 105


async def test_notification_gateway_fetches_the_pdf_with_its_service_token(door: Any) -> None:
    event = await door.event()
    order = await an_order(door, event, quantity=1)
    async with door.pool.acquire() as conn:
        number = await pay(conn, order["id"])
    path = f"/internal/orders/{order['id']}/receipt.pdf"
    token = issue_service_token(TicketSettings(), sub="notification-gateway")
    async with door.client() as client:
        as_user = await client.get(path, headers=door.auth(order["buyer"]))
        as_service = await client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert as_user.status_code == 401
    assert as_service.status_code == 200
    assert as_service.content.startswith(b"%PDF-")
    assert as_service.headers["receipt-number"] == f"KW/{YEAR}/{number:06d}"


async def test_host_sales_report_by_day_and_type_with_refunds_taxes_and_promo_codes(
    door: Any,
) -> None:
    event = await door.event(price=110_000)
    regular = await an_order(door, event, quantity=2)
    vip = await an_order(
        door, event, quantity=1, type_id="vip", price=220_000, discount=22_000, promo_code="VIP10"
    )
    async with door.pool.acquire() as conn:
        await pay(conn, regular["id"])
        await pay(conn, vip["id"])
        async with conn.transaction():
            # One regular ticket is refunded: its ticket ends refunded, the order gets a note.
            await conn.execute(
                "UPDATE tickets SET status = 'refunded', refunded_at = now() WHERE id = $1",
                uuid.UUID(regular["ticket_id"]),
            )
            await issue_credit_note(
                SqlReceiptBook(conn),
                order_id=regular["id"],
                refunded=110_000,
                refund_key="r-1",
                now=datetime.now(UTC),
            )
    path = f"/events/{event['event_id']}/sales"
    host = door.auth(event["host_id"], "host")
    async with door.client() as client:
        report = await client.get(path, headers=host)
        exported = await client.get(path + ".csv", headers=host)
        other_host = await client.get(path, headers=door.auth("another-host", "host"))
        buyer = await client.get(path, headers=door.auth(regular["buyer"]))
        unknown = await client.get(f"/events/{uuid.uuid4()}/sales", headers=host)
    assert report.status_code == 200, report.text
    data = report.json()["data"]
    today = datetime.now(UTC).astimezone(WIB).date().isoformat()
    assert data["rows"] == [
        {
            "date": today,
            "ticket_type_id": "default",
            "ticket_type_name": "Reguler",
            "sold": 2,
            "refunded": 1,
            "gross": 220_000,
            "refunds": 110_000,
            "net": 110_000,
            "pbjt": 10_000,
        },
        {
            "date": today,
            "ticket_type_id": "vip",
            "ticket_type_name": "VIP",
            "sold": 1,
            "refunded": 0,
            "gross": 198_000,
            "refunds": 0,
            "net": 198_000,
            "pbjt": 18_000,
        },
    ]
    assert data["totals"] == {
        "receipts": 2,
        "credit_notes": 1,
        "gross": 418_000,
        "refunds": 110_000,
        "net": 308_000,
        "pbjt": 28_000,
        "platform_fee": 15_400,  # 11,000 + 9,900 - 5,500
        "ppn": 1_694,  # 1,210 + 1,089 - 605
        "host_proceeds": 290_906,
    }
    assert data["promo_codes"] == [{"code": "VIP10", "orders": 1, "discount": 22_000}]
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    lines = exported.text.splitlines()
    assert lines[0] == "date,ticket_type_id,ticket_type_name,sold,refunded,gross,refunds,net,pbjt"
    assert lines[1] == f"{today},default,Reguler,2,1,220000,110000,110000,10000"
    assert lines[-1] == "total,,,3,1,418000,110000,308000,28000"
    assert other_host.status_code == 403
    assert buyer.status_code == 403
    assert unknown.status_code == 404


async def test_the_gateways_fetcher_gets_the_pdf_in_the_buyers_language(door: Any) -> None:
    event = await door.event()
    order = await an_order(door, event, quantity=1)
    async with door.pool.acquire() as conn:
        number = await pay(conn, order["id"])
    fetcher = ReceiptFetcher(NotificationSettings(ticket_service_url=door.url))
    forged = ReceiptFetcher(
        NotificationSettings(ticket_service_url=door.url, service_token_secret="x" * 40)
    )
    try:
        receipt = await fetcher.receipt_of(order["id"], "en")
        missing = await fetcher.receipt_of(str(uuid.uuid4()), "id")
        with pytest.raises(ReceiptUnavailable):
            await forged.receipt_of(order["id"], "id")
    finally:
        await fetcher.aclose()
        await forged.aclose()
    assert receipt is not None and receipt.pdf.startswith(b"%PDF-")
    assert receipt.number == f"KW/{YEAR}/{number:06d}"
    assert b"RECEIPT" in _page_text(receipt.pdf)  # in the buyer's language
    assert missing is None
