"""The page behind redirect_url: see the order, pay it with a chosen method or let it fail.

After paying, the browser goes to callbacks.finish with order_id, status_code and
transaction_status in the query, as Snap's redirect does.
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from midtrans_sandbox.clock import midtrans_time
from midtrans_sandbox.payment_methods import (
    APP_PAYMENT_TYPES,
    UnknownMethod,
    method_for,
    methods_for_channels,
)
from midtrans_sandbox.service import ControlError, Sandbox
from midtrans_sandbox.state import Order, Status, Transaction

router = APIRouter()

PAGE_PATHS = (
    "/snap/v2/vtweb/{token}",
    "/snap/v3/redirection/{token}",
    "/snap/v4/redirection/{token}",
)
FIRST_OUTCOMES = (
    ("settlement", "Pay successfully (settlement)"),
    ("pending", "Choose the method, pay later (pending)"),
    ("capture", "Card: captured, not yet settled (capture)"),
    ("challenge", "Card: challenged by fraud detection (challenge)"),
    ("deny", "Fail: denied (deny)"),
    ("cancel", "Fail: cancelled (cancel)"),
    ("expire", "Fail: let it expire (expire)"),
    ("failure", "Fail: processing error (failure)"),
)
PENDING_OUTCOMES = (
    ("settlement", "Pay now (settlement)"),
    ("expire", "Let it expire (expire)"),
    ("cancel", "Cancel (cancel)"),
    ("deny", "Deny (deny)"),
    ("failure", "Processing error (failure)"),
)
STYLE = """
body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1c2434}
header{background:#0b2e59;color:#fff;padding:.8rem 1rem;border-radius:.4rem}
table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left}
.amount{font-size:1.6rem;font-weight:600}
.error{background:#fde2e1;padding:.6rem;border-radius:.3rem}
.status{font-weight:600}fieldset{margin:1rem 0;border:1px solid #ccd;border-radius:.3rem}
button{background:#0b6bcb;color:#fff;border:0;
padding:.6rem 1.2rem;border-radius:.3rem;font-size:1rem}
"""


def rupiah(amount: int) -> str:
    return "Rp " + f"{amount:,}".replace(",", ".")


def finish_redirect(finish_url: str, tx: Transaction) -> str:
    parts = urlsplit(finish_url)
    query = parse_qs(parts.query, keep_blank_values=True)
    query.update(
        {
            "order_id": [tx.order_id],
            "status_code": [tx.notification_status_code()],
            "transaction_status": [str(tx.status)],
        }
    )
    return urlunsplit(parts._replace(query=urlencode(query, doseq=True)))


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width'><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><header>Midtrans sandbox (local)</header>"
        f"{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status)


def _order_summary(order: Order) -> str:
    rows = ""
    items = order.request.get("item_details") or []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            rows += (
                f"<tr><td>{escape(str(item.get('name', '')))}</td>"
                f"<td>{escape(str(item.get('quantity', '')))}</td>"
                f"<td>{escape(str(item.get('price', '')))}</td></tr>"
            )
    table = f"<table><tr><th>Item</th><th>Qty</th><th>Price</th></tr>{rows}</table>" if rows else ""
    customer = order.request.get("customer_details")
    who = ""
    if isinstance(customer, dict):
        name = " ".join(str(customer.get(k, "")) for k in ("first_name", "last_name")).strip()
        who = f"<p>Customer: {escape(name)} {escape(str(customer.get('email', '')))}</p>"
    return (
        f"<h1>Order {escape(order.order_id)}</h1>"
        f"<p class='amount' data-gross-amount='{order.gross_amount}'>"
        f"{rupiah(order.gross_amount)}</p>"
        f"{table}{who}"
    )


def _instructions(tx: Transaction) -> str:
    d = tx.details
    lines: list[str] = []
    for va in d.get("va_numbers", []):
        lines.append(f"{va['bank'].upper()} virtual account number: <b>{va['va_number']}</b>")
    if "permata_va_number" in d:
        lines.append(f"Permata virtual account number: <b>{d['permata_va_number']}</b>")
    if "bill_key" in d:
        lines.append(
            f"Mandiri biller code <b>{d['biller_code']}</b>, bill key <b>{d['bill_key']}</b>"
        )
    if "payment_code" in d:
        lines.append(
            f"{escape(str(d['store'])).capitalize()} payment code: <b>{d['payment_code']}</b>"
        )
    if tx.payment_type in {"gopay", "qris", "shopeepay"}:
        lines.append("Scan the QR code with your e-wallet (simulated).")
    if tx.payment_type in APP_PAYMENT_TYPES:
        lines.append(f"Approve the payment in the {escape(tx.method.label)} app (simulated).")
    if tx.expiry_time is not None:
        lines.append(f"Pay before {midtrans_time(tx.expiry_time)} (GMT+7).")
    return "".join(f"<p>{line}</p>" for line in lines)


def _options(choices: tuple[tuple[str, str], ...]) -> str:
    return "".join(f"<option value='{v}'>{escape(label)}</option>" for v, label in choices)


def render_order(
    order: Order, action: str, error: str | None = None, status: int = 200
) -> HTMLResponse:
    parts = [_order_summary(order)]
    if error:
        parts.append(f"<p class='error' role='alert'>{escape(error)}</p>")
    tx = order.transaction
    if tx is not None and order.can_pay_again():
        parts.append(
            f"<p class='error' role='alert'>Your {escape(tx.method.label)} payment was declined "
            f"(<span class='status'>{tx.status}</span>). "
            "Try another card or another payment method.</p>"
        )
    if tx is None or order.can_pay_again():
        radios = "".join(
            f"<label><input type='radio' name='method' value='{m.channel}'"
            f"{' checked' if i == 0 else ''}> {escape(m.label)}</label><br>"
            for i, m in enumerate(methods_for_channels(order.enabled_payments))
        )
        parts.append(
            f"<form method='post' action='{escape(action)}'>"
            f"<fieldset><legend>Payment method</legend>{radios}</fieldset>"
            f"<fieldset><legend>What happens</legend><select name='outcome'>"
            f"{_options(FIRST_OUTCOMES)}</select></fieldset>"
            "<button type='submit'>Pay</button></form>"
        )
    elif tx.status is Status.PENDING:
        parts.append(
            f"<p>Paying with {escape(tx.method.label)}: "
            f"<span class='status'>{tx.status}</span></p>{_instructions(tx)}"
            f"<form method='post' action='{escape(action)}'><select name='outcome'>"
            f"{_options(PENDING_OUTCOMES)}</select> <button type='submit'>Go</button></form>"
        )
    else:
        back = ""
        if order.finish_url:
            href = escape(finish_redirect(order.finish_url, tx))
            back = f"<p><a href='{href}'>Back to the merchant</a></p>"
        parts.append(
            f"<p>Paid with {escape(tx.method.label)}. Status: "
            f"<span class='status'>{tx.status}</span> (fraud {escape(tx.fraud_status)})</p>{back}"
        )
    return page(f"Pay order {order.order_id}", "".join(parts), status)


def _order_or_page(sandbox: Sandbox, token: str) -> Order | HTMLResponse:
    sandbox.expire_due()
    order = sandbox.store.order_for_token(token)
    if order is None:
        return page("Not found", "<h1>This payment page does not exist or was replaced.</h1>", 404)
    if order.transaction is None and sandbox.clock.now() >= order.token_expires_at:
        return page("Expired", "<h1>This payment page has expired.</h1>", 410)
    return order


async def show_page(token: str, request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    order = _order_or_page(sandbox, token)
    if isinstance(order, HTMLResponse):
        return order
    return render_order(order, f"{request.url.path}/pay")


async def submit_page(token: str, request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    order = _order_or_page(sandbox, token)
    if isinstance(order, HTMLResponse):
        return order
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    fields: dict[str, Any] = {k: v[0] for k, v in form.items() if v}
    page_path = request.url.path.removesuffix("/pay")
    choosing = order.transaction is None or order.can_pay_again()
    tx = order.transaction
    if not choosing and tx is not None and tx.status is not Status.PENDING:
        # Submitted again (a double click, the back button): nothing left to pay.
        return _after_payment(order, page_path)
    try:
        method = None
        if choosing:
            method = method_for(str(fields.get("method", "")))
        sandbox.pay(order.order_id, method, str(fields.get("outcome", "settlement")))
    except UnknownMethod as error:
        return render_order(order, request.url.path, str(error), 400)
    except ControlError as error:
        return render_order(order, request.url.path, error.message, error.http_status)
    return _after_payment(order, page_path)


def _after_payment(order: Order, page_path: str) -> RedirectResponse:
    tx = order.transaction
    if order.finish_url and tx is not None:
        return RedirectResponse(finish_redirect(order.finish_url, tx), status_code=303)
    return RedirectResponse(page_path, status_code=303)


for _path in PAGE_PATHS:
    router.add_api_route(_path, show_page, methods=["GET"], response_class=HTMLResponse)
    router.add_api_route(f"{_path}/pay", submit_page, methods=["POST"], response_class=HTMLResponse)
