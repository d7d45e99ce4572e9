"""GET /_sandbox/: an HTML overview of orders, their pay pages and notification deliveries."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from midtrans_sandbox.pages import page, rupiah
from midtrans_sandbox.service import Sandbox

router = APIRouter(prefix="/_sandbox")


@router.get("/", response_class=HTMLResponse)
async def dashboard(request: Request) -> HTMLResponse:
    sandbox: Sandbox = request.app.state.sandbox
    sandbox.expire_due()
    rows = []
    for order in reversed(list(sandbox.store.orders.values())[-200:]):
        tx = order.transaction
        status = "waiting for a method" if tx is None else f"{tx.status} ({tx.method.channel})"
        rows.append(
            f"<tr><td><a href='/snap/v3/redirection/{escape(order.token)}'>"
            f"{escape(order.order_id)}</a></td><td>{rupiah(order.gross_amount)}</td>"
            f"<td>{escape(status)}</td></tr>"
        )
    attempts = []
    for a in reversed(sandbox.notifier.log()[-100:]):
        answer = a["response_status"] if a["response_status"] is not None else a["error"]
        attempts.append(
            f"<tr><td>{escape(a['sent_at'][11:23])}</td><td>{escape(a['order_id'])}</td>"
            f"<td>{escape(str(a['transaction_status']))}</td><td>{escape(a['kind'])} "
            f"#{a['attempt']}</td><td>{escape(a['url'])}</td><td>{escape(str(answer))}</td></tr>"
        )
    received = [
        f"<tr><td>{escape(r['received_at'][11:23])}</td>"
        f"<td>{escape(str(r['body'].get('order_id')))}</td>"
        f"<td>{escape(str(r['body'].get('transaction_status')))}</td>"
        f"<td>{'valid' if r['signature_valid'] else 'INVALID'}</td></tr>"
        for r in reversed(sandbox.received[-100:])
        if isinstance(r["body"], dict)
    ]
    body = (
        "<h1>Sandbox overview</h1><h2>Orders</h2><table><tr><th>Order</th><th>Amount</th>"
        f"<th>Status</th></tr>{''.join(rows)}</table>"
        "<h2>Notification deliveries</h2><table><tr><th>Sent (UTC)</th><th>Order</th>"
        f"<th>Status</th><th>Attempt</th><th>URL</th><th>Answer</th></tr>{''.join(attempts)}"
        "</table><h2>Received by /_sandbox/receiver</h2><table><tr><th>At (UTC)</th>"
        f"<th>Order</th><th>Status</th><th>Signature</th></tr>{''.join(received)}</table>"
    )
    return page("Midtrans sandbox", body)
