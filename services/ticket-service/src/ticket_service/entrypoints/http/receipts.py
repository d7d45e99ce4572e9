"""Receipts: the buyer's receipt of a paid order (JSON or PDF), and the host's PBJT rate.

The language is the `lang` query parameter when sent, else the first of Indonesian or English in
`Accept-Language`, else Indonesian. The PDF is asked for with `Accept: application/pdf` or the
`.pdf` path; notification-gateway fetches it on `/internal/...` with its service token.
"""

from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from servicekit.auth import CurrentUser, ServiceCaller
from servicekit.contract import declare, merge
from servicekit.errors import DomainErrorMap
from servicekit.formatting import WIB, Language, preferred_language

from ticket_service import bootstrap
from ticket_service.adapters.receipt_book import SqlReceiptBook
from ticket_service.adapters.receipt_pdf import render_receipt_pdf, word
from ticket_service.domain import receipts as rules
from ticket_service.domain.door import Actor
from ticket_service.domain.receipts import Receipt
from ticket_service.entrypoints.http.door import HostOrAdmin, actor_of
from ticket_service.service_layer import receipts
from ticket_service.service_layer.receipts import EventTax, OrderReceipt

router = APIRouter(tags=["receipts"])

Book = Annotated[SqlReceiptBook, Depends(bootstrap.receipt_book)]
Lang = Annotated[Literal["id", "en"] | None, Query(description="id (default) or en")]
AcceptLanguage = Annotated[str | None, Header(alias="Accept-Language", max_length=500)]
Accept = Annotated[str | None, Header(alias="Accept", max_length=500)]

RECEIPT_ERRORS: DomainErrorMap = {
    rules.ReceiptNotFound: (404, "order_not_found"),
    rules.OrderNotPaid: (409, "order_not_paid"),
}
PDF = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}

METHODS: dict[str, tuple[str, str]] = {
    "bank_transfer": ("Transfer bank (virtual account)", "Bank transfer (virtual account)"),
    "echannel": ("Mandiri Bill", "Mandiri Bill"),
    "credit_card": ("Kartu kredit/debit", "Credit/debit card"),
    "gopay": ("GoPay", "GoPay"),
    "shopeepay": ("ShopeePay", "ShopeePay"),
    "qris": ("QRIS", "QRIS"),
    "cstore": ("Gerai retail (Indomaret/Alfamart)", "Convenience store (Indomaret/Alfamart)"),
    "akulaku": ("Akulaku", "Akulaku"),
    "free": ("Gratis", "Free"),
}


class PbjtRatePut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pbjt_rate: float = Field(
        strict=True, ge=0, le=10, description="Percent, at most 10 (Jakarta); to 2 decimals."
    )

    @property
    def rate(self) -> Decimal:
        return Decimal(str(self.pbjt_rate)).quantize(Decimal("0.01"))


def method_label(method: str | None, language: Language) -> str:
    if method is None:
        return "-"
    indonesian, english = METHODS.get(method, (method, method))
    return indonesian if language == "id" else english


def _wib(receipt_time: Any) -> str:
    return str(receipt_time.astimezone(WIB).isoformat())


def _lines(receipt: Receipt) -> dict[str, Any]:
    lines, rates = receipt.lines, receipt.rates
    return {
        "prices_include_pbjt": True,
        "pbjt_rate": float(rates.pbjt),
        "pbjt_base": lines.pbjt_base,
        "pbjt": lines.pbjt,
        "platform_fee_rate": float(rates.platform_fee),
        "platform_fee": lines.platform_fee,
        "ppn_rate": float(rates.ppn),
        "ppn": lines.ppn,
        "host_proceeds": lines.host_proceeds,
    }


def receipt_public(found: OrderReceipt, language: Language) -> dict[str, Any]:
    receipt, order = found.receipt, found.receipt.order
    return {
        "number": receipt.label,
        "kind": str(receipt.kind),
        "title": word("title", language).capitalize(),
        "language": language,
        "issued_at": _wib(receipt.issued_at),
        "order_id": order.order_id,
        "host_id": receipt.host_id,
        "event": {
            "id": order.event_id,
            "title": order.event_title,
            "venue": order.event_venue,
            "starts_at": _wib(order.event_starts_at),
        },
        "buyer": {"user_id": order.buyer_id, "name": order.buyer_name, "email": order.buyer_email},
        "items": [
            {
                "ticket_type_id": item.ticket_type_id,
                "name": item.name,
                "unit_price": item.unit_price,
                "quantity": item.quantity,
                "amount": item.amount,
            }
            for item in order.items
        ],
        "discount": order.discount,
        "promo_code": order.promo_code,
        "total": receipt.lines.total,
        "currency": "IDR",
        "taxes": _lines(receipt),
        "payment": {
            "method": order.payment_method,
            "label": method_label(order.payment_method, language),
            "paid_at": _wib(order.paid_at),
        },
        "credit_notes": [
            {
                "number": note.label,
                "credits": note.credits,
                "issued_at": _wib(note.issued_at),
                "amount": note.lines.total,
                "taxes": _lines(note),
            }
            for note in found.credit_notes
        ],
    }


def _pdf(found: OrderReceipt, language: Language) -> Response:
    method = method_label(found.receipt.order.payment_method, language)
    # On the loop: the PDF is written in about 0.2 ms, where a thread's hop alone costs 0.1 ms.
    body = render_receipt_pdf(found.receipt, found.credit_notes, language=language, method=method)
    filename = found.receipt.label.replace("/", "-") + ".pdf"
    return Response(
        body,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


def _language(lang: str | None, accept_language: str | None) -> Language:
    if lang == "en":
        return "en"
    if lang == "id":
        return "id"
    return preferred_language(accept_language)


@router.get(
    "/orders/{order_id:uuid}/receipt",
    responses=merge({200: {"content": {"application/json": {}, **PDF}}}, declare(409)),
)
async def order_receipt(
    order_id: UUID,
    principal: CurrentUser,
    book: Book,
    lang: Lang = None,
    accept_language: AcceptLanguage = None,
    accept: Accept = None,
) -> Any:
    found = await receipts.order_receipt(book, order_id=str(order_id), actor=actor_of(principal))
    language = _language(lang, accept_language)
    if accept and "application/pdf" in accept and "application/json" not in accept:
        return _pdf(found, language)
    return {"data": receipt_public(found, language)}


@router.get(
    "/orders/{order_id:uuid}/receipt.pdf",
    responses=merge({200: {"content": PDF}}, declare(409)),
)
async def order_receipt_pdf(
    order_id: UUID,
    principal: CurrentUser,
    book: Book,
    lang: Lang = None,
    accept_language: AcceptLanguage = None,
) -> Response:
    found = await receipts.order_receipt(book, order_id=str(order_id), actor=actor_of(principal))
    return _pdf(found, _language(lang, accept_language))


@router.get(
    "/internal/orders/{order_id:uuid}/receipt.pdf",
    responses=merge({200: {"content": PDF}}, declare(409)),
    include_in_schema=False,
)
async def internal_receipt_pdf(
    order_id: UUID, _service: ServiceCaller, request: Request, lang: Lang = None
) -> Response:
    """For notification-gateway's order e-mail (service token only); the number in a header,
    for the attachment's name and the e-mail's words."""
    async with bootstrap.receipt_store(request)() as book:
        found = await receipts.order_receipt(
            book, order_id=str(order_id), actor=Actor("service", is_admin=True)
        )
    answer = _pdf(found, lang or "id")
    answer.headers["Receipt-Number"] = found.receipt.label
    return answer


def tax_public(found: EventTax) -> dict[str, Any]:
    return {"event_id": found.event_id, "pbjt_rate": float(found.pbjt_rate)}


@router.get("/events/{event_id:uuid}/tax")
async def get_event_tax(event_id: UUID, _caller: CurrentUser, book: Book) -> dict[str, Any]:
    return {"data": tax_public(await receipts.event_tax(book, event_id=str(event_id)))}


@router.put("/events/{event_id:uuid}/tax", responses=declare(422))
async def put_event_tax(
    event_id: UUID, body: PbjtRatePut, principal: HostOrAdmin, book: Book
) -> dict[str, Any]:
    found = await receipts.set_pbjt_rate(
        book, event_id=str(event_id), actor=actor_of(principal), rate=body.rate
    )
    return {"data": tax_public(found)}
