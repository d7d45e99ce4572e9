"""The receipt PDF says what the receipt says: its number, items, total and tax lines."""

import re
import uuid
import zlib
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from fpdf import FPDF
from ticket_service.adapters.receipt_pdf import render_receipt_pdf
from ticket_service.domain.receipts import (
    PaidOrder,
    Receipt,
    ReceiptItem,
    ReceiptKind,
    TaxRates,
    tax_lines,
)

PAID = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def a_receipt(*, kind: ReceiptKind = ReceiptKind.RECEIPT, number: int = 42) -> Receipt:
    order = PaidOrder(
        order_id=str(uuid.uuid4()),
        status="paid",
        host_id="host-1",
        event_id=str(uuid.uuid4()),
        event_title="Konser Jakarta",
        event_venue="GBK",
        event_starts_at=PAID,
        buyer_id="user-1",
        buyer_name="Budi Santoso",
        buyer_email="budi@example.id",
        items=(ReceiptItem("default", "Reguler", 150_000, 2),),
        discount=50_000,
        promo_code="HEMAT",
        total=250_000,
        payment_method="gopay",
        paid_at=PAID,
        pbjt_rate=Decimal("10"),
    )
    rates = TaxRates(Decimal("10"), Decimal("5"), Decimal("11"))
    return Receipt(
        id=str(uuid.uuid4()),
        kind=kind,
        host_id="host-1",
        year=2026,
        number=number,
        order=order,
        issued_at=PAID,
        rates=rates,
        lines=tax_lines(250_000, rates),
    )


def page_contents(pdf: bytes) -> list[str]:
    """Each content stream, read by its /Length (compressed bytes may hold anything)."""
    contents = []
    for found in re.finditer(rb"/Length (\d+) >>\nstream\n", pdf):
        stream = pdf[found.end() : found.end() + int(found[1])]
        assert pdf[found.end() + int(found[1]) :].startswith(b"\nendstream")
        contents.append(zlib.decompress(stream).decode("latin-1"))
    return contents


def shown(pdf: bytes) -> list[tuple[float, str]]:
    """Each text the page shows, with its x in points, in drawing order."""
    texts: list[tuple[float, str]] = []
    for content in page_contents(pdf):
        for x, text in re.findall(r"BT ([\d.]+) [\d.]+ Td \((.*?)\) Tj\b", content):
            texts.append((float(x), re.sub(r"\\(.)", r"\1", text)))
    return texts


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("id", ["KWITANSI", "Total dibayar", "PBJT (pajak hiburan) 10 %"]),
        ("en", ["RECEIPT", "Total paid", "PBJT (entertainment tax) 10 %"]),
    ],
)
def test_the_pdf_shows_the_receipt_in_the_buyers_language(language: str, words: list[str]) -> None:
    pdf = render_receipt_pdf(a_receipt(), [], language=language, method="GoPay")  # type: ignore[arg-type]
    assert pdf.startswith(b"%PDF-")
    texts = [text for _, text in shown(pdf)]
    for word in [*words, "KW/2026/000042", "Reguler", "Rp250.000", "Rp22.727", "GoPay"]:
        assert word in texts, (word, texts)
    assert texts.index(words[1]) < texts.index(words[2])  # the total, then its taxes


def test_amounts_end_on_the_right_margin() -> None:
    pdf = render_receipt_pdf(a_receipt(), [], language="id", method="GoPay")
    ruler = FPDF(format="A4")
    ruler.add_page()
    points_per_mm = 72 / 25.4
    placed = dict((text, x) for x, text in shown(pdf))
    for text, bold in [("KW/2026/000042", True), ("Rp250.000", True), ("Rp22.727", False)]:
        ruler.set_font("Helvetica", "B" if bold else "", 10)
        end_mm = placed[text] / points_per_mm + ruler.get_string_width(text)
        assert end_mm == pytest.approx(199.0, abs=0.05), text


def test_credit_notes_follow_the_receipt() -> None:
    receipt = a_receipt()
    note = a_receipt(kind=ReceiptKind.CREDIT_NOTE, number=7)
    pdf = render_receipt_pdf(receipt, [note], language="en", method="GoPay")
    texts = [text for _, text in shown(pdf)]
    assert any(text.startswith("CREDIT NOTE") for text in texts)
    assert texts.index("RECEIPT") < next(i for i, t in enumerate(texts) if t.startswith("CREDIT"))


def test_the_file_is_a_well_formed_pdf_of_as_many_pages_as_it_needs() -> None:
    """The cross-reference table finds every object, each stream is as long as it says, and a
    receipt with many credit notes goes on to a second page that sets its own font."""
    receipt = a_receipt()
    notes = [a_receipt(kind=ReceiptKind.CREDIT_NOTE, number=n) for n in range(1, 8)]
    pdf = render_receipt_pdf(receipt, notes, language="id", method="GoPay")
    assert pdf.endswith(b"%%EOF\n")
    start = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert pdf[start:].startswith(b"xref\n0 ")
    entries = pdf[start:].split(b"\n")[2:]
    offsets = [int(e[:10]) for e in entries if e.endswith(b" n ")]
    for number, offset in enumerate(offsets, start=1):
        assert pdf[offset:].startswith(f"{number} 0 obj\n".encode()), number
    assert b"/Count 2 >>" in pdf
    pages = page_contents(pdf)  # each stream exactly as long as its /Length says
    assert len(pages) == 2 and all(page.startswith("BT /F") for page in pages)
    texts = [text for _, text in shown(pdf)]
    assert sum(text.startswith("NOTA KREDIT") for text in texts) == 7
