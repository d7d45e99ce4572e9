"""A receipt and its credit notes as an A4 PDF, in Indonesian or English.

A receipt is lines of text in Helvetica, so the PDF is written here directly: the standard's
core fonts need no embedding, and each page is one compressed stream of text operators, as
fpdf2 writes them (fpdf2, building a general document, was most of a receipt's CPU). Widths,
for the amounts that end on the right margin, come from the core font's metrics (fpdf2's table).
"""

import zlib
from collections.abc import Sequence
from decimal import Decimal

from fpdf.fonts import CORE_FONTS_CHARWIDTHS
from fpdf.util import escape_parens
from servicekit.formatting import Language, rupiah, wib_time

from ticket_service.domain.receipts import Receipt

WORDS: dict[str, tuple[str, str]] = {
    "title": ("KWITANSI", "RECEIPT"),
    "number": ("Nomor", "Number"),
    "issued": ("Tanggal terbit", "Issued"),
    "host": ("Penyelenggara", "Host"),
    "event": ("Acara", "Event"),
    "buyer": ("Pembeli", "Buyer"),
    "order": ("Nomor pesanan", "Order"),
    "item": ("Tiket", "Ticket"),
    "qty": ("Jml", "Qty"),
    "price": ("Harga", "Price"),
    "amount": ("Jumlah", "Amount"),
    "discount": ("Potongan", "Discount"),
    "total": ("Total dibayar", "Total paid"),
    "includes": ("Harga sudah termasuk PBJT", "Prices include PBJT"),
    "pbjt_base": ("Dasar pengenaan PBJT", "PBJT base"),
    "pbjt": ("PBJT (pajak hiburan)", "PBJT (entertainment tax)"),
    "fee": ("Biaya platform (ditagihkan ke penyelenggara)", "Platform fee (charged to the host)"),
    "ppn": ("PPN atas biaya platform", "VAT (PPN) on the platform fee"),
    "proceeds": ("Diterima penyelenggara", "Host proceeds"),
    "method": ("Metode pembayaran", "Payment method"),
    "paid_at": ("Dibayar", "Paid"),
    "credit_note": ("NOTA KREDIT", "CREDIT NOTE"),
    "credits": ("atas kwitansi", "for receipt"),
    "refunded": ("Dikembalikan", "Refunded"),
}


def word(key: str, language: Language) -> str:
    indonesian, english = WORDS[key]
    return indonesian if language == "id" else english


def _latin1(text: str) -> str:
    """The PDF's core font is Latin-1: anything else prints as '?' rather than failing."""
    return text.encode("latin-1", "replace").decode("latin-1")


def _rate(rate: Decimal) -> str:
    return f"{rate.normalize():f} %"


_POINTS_PER_MM = 72 / 25.4
_A4 = (595.28, 841.89)  # points
_FONTS = {False: ("F1", "Helvetica"), True: ("F2", "Helvetica-Bold")}
_WIDTHS = {False: CORE_FONTS_CHARWIDTHS["helvetica"], True: CORE_FONTS_CHARWIDTHS["helveticaB"]}


def _font(name: str) -> bytes:
    encoding = "/Encoding /WinAnsiEncoding"
    return f"<< /Type /Font /Subtype /Type1 /BaseFont /{name} {encoding} >>".encode()


def pdf_document(pages: Sequence[Sequence[str]]) -> bytes:
    """A PDF of A4 pages, each drawn by its content operators, with both Helvetica fonts."""
    kids = " ".join(f"{5 + 2 * i} 0 R" for i in range(len(pages)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
        *(_font(name) for _, name in _FONTS.values()),
    ]
    fonts = " ".join(f"/{key} {3 + i} 0 R" for i, (key, _) in enumerate(_FONTS.values()))
    for i, operators in enumerate(pages):
        content = zlib.compress("\n".join(operators).encode("latin-1"))
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {_A4[0]} {_A4[1]}] "
            f"/Resources << /Font << {fonts} >> >> /Contents {6 + 2 * i} 0 R >>".encode()
        )
        objects.append(
            f"<< /Filter /FlateDecode /Length {len(content)} >>\nstream\n".encode()
            + content
            + b"\nendstream"
        )
    out = bytearray(b"%PDF-1.4\n%\xe9\xeb\xf1\xbf\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


class _Page:
    """Lines of text at set places: a receipt has no wrapping or flowing text."""

    LEFT, RIGHT, BOTTOM = 10.0, 200.0, 282.0  # mm on A4, 10 mm margins, 15 mm at the foot
    TOP = 10.0
    PAD = 1.0  # cell padding, as a table cell leaves

    def __init__(self) -> None:
        self.pages: list[list[str]] = [[]]
        self.y = self.TOP
        self._font: tuple[int, bool] | None = None

    def _set_font(self, size: int, bold: bool) -> None:
        if self._font != (size, bold):
            self.pages[-1].append(f"BT /{_FONTS[bold][0]} {size:.2f} Tf ET")
            self._font = (size, bold)

    def _line(self, size: int, bold: bool, height: float = 6.0) -> float:
        """The baseline of the next line (a new page when this one is full)."""
        if self.y + height > self.BOTTOM:
            self.pages.append([])
            self.y = self.TOP
            self._font = None  # each page sets its font again
        self._set_font(size, bold)
        baseline = self.y + height / 2 + 0.3 * size / _POINTS_PER_MM
        self.y += height
        return baseline

    def _draw(self, x: float, baseline: float, text: str) -> None:
        at = f"{x * _POINTS_PER_MM:.2f} {_A4[1] - baseline * _POINTS_PER_MM:.2f}"
        self.pages[-1].append(f"BT {at} Td ({escape_parens(text)}) Tj ET")

    def _left(self, x: float, baseline: float, value: str) -> None:
        if value:
            self._draw(x + self.PAD, baseline, _latin1(value))

    def _right(self, edge: float, baseline: float, value: str) -> None:
        text = _latin1(value)
        self._draw(edge - self.PAD - self._width(text), baseline, text)

    def _width(self, text: str) -> float:
        """The text's width in mm, from the core font's metrics (thousandths of the size)."""
        assert self._font is not None  # set by `_line`
        size, bold = self._font
        widths = _WIDTHS[bold]
        return sum(widths.get(char, 0) for char in text) * size / _POINTS_PER_MM / 1000

    def text(self, value: str, *, size: int = 10, bold: bool = False) -> None:
        self._left(self.LEFT, self._line(size, bold), value)

    def pair(self, label: str, value: str, *, bold: bool = False) -> None:
        baseline = self._line(10, bold)
        self._left(self.LEFT, baseline, label)
        self._right(self.RIGHT, baseline, value)

    def row(self, cells: Sequence[tuple[str, float, str]], *, bold: bool = False) -> None:
        baseline = self._line(10, bold)
        x = self.LEFT
        for value, width, align in cells:
            right = x + width if width else self.RIGHT
            if align == "R":
                self._right(right, baseline, value)
            else:
                self._left(x, baseline, value)
            x = right

    def gap(self) -> None:
        self.y += 4


def render_receipt_pdf(
    receipt: Receipt, credit_notes: Sequence[Receipt], *, language: Language, method: str
) -> bytes:
    order = receipt.order
    page = _Page()
    page.text(word("title", language), size=16, bold=True)
    page.pair(word("number", language), receipt.label, bold=True)
    page.pair(word("issued", language), wib_time(receipt.issued_at, language))
    page.pair(word("order", language), order.order_id)
    page.pair(word("host", language), receipt.host_id)
    page.pair(word("event", language), order.event_title)
    page.pair("", f"{order.event_venue}, {wib_time(order.event_starts_at, language)}")
    page.pair(word("buyer", language), f"{order.buyer_name} <{order.buyer_email}>")
    page.gap()
    page.row(
        [
            (word("item", language), 90, "L"),
            (word("qty", language), 15, "R"),
            (word("price", language), 40, "R"),
            (word("amount", language), 0, "R"),
        ],
        bold=True,
    )
    for item in order.items:
        page.row(
            [
                (item.name, 90, "L"),
                (str(item.quantity), 15, "R"),
                (rupiah(item.unit_price), 40, "R"),
                (rupiah(item.amount), 0, "R"),
            ]
        )
    if order.discount:
        label = word("discount", language)
        page.pair(
            f"{label} ({order.promo_code})" if order.promo_code else label, rupiah(-order.discount)
        )
    page.pair(word("total", language), rupiah(receipt.lines.total), bold=True)
    page.gap()
    lines, rates = receipt.lines, receipt.rates
    page.text(f"{word('includes', language)} {_rate(rates.pbjt)}", size=9)
    page.pair(word("pbjt_base", language), rupiah(lines.pbjt_base))
    page.pair(f"{word('pbjt', language)} {_rate(rates.pbjt)}", rupiah(lines.pbjt))
    page.pair(f"{word('fee', language)} {_rate(rates.platform_fee)}", rupiah(lines.platform_fee))
    page.pair(f"{word('ppn', language)} {_rate(rates.ppn)}", rupiah(lines.ppn))
    page.pair(word("proceeds", language), rupiah(lines.host_proceeds))
    page.gap()
    page.pair(word("method", language), method)
    page.pair(word("paid_at", language), wib_time(order.paid_at, language))
    for note in credit_notes:
        page.gap()
        page.text(f"{word('credit_note', language)} {note.label}", size=12, bold=True)
        page.pair(f"{word('credits', language)}", note.credits or receipt.label)
        page.pair(word("issued", language), wib_time(note.issued_at, language))
        page.pair(word("refunded", language), rupiah(-note.lines.total), bold=True)
        page.pair(word("pbjt", language), rupiah(-note.lines.pbjt))
        page.pair(word("fee", language), rupiah(-note.lines.platform_fee))
        page.pair(word("ppn", language), rupiah(-note.lines.ppn))
    return pdf_document(page.pages)
