"""The buyer's orders: place one (several tickets, one payment), read them, cancel one."""

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from servicekit.auth import CurrentUser
from servicekit.contract import declare, etag_responses, merge, replay_responses

from ticket_service import bootstrap
from ticket_service.domain.door import Actor
from ticket_service.domain.entities import Ticket
from ticket_service.domain.orders import Attendee, Order, OrderItem, normalise_promo_code
from ticket_service.entrypoints.http.caching import etag_json
from ticket_service.entrypoints.http.host_tools import CancelRequest
from ticket_service.entrypoints.http.idempotent import Answer, answer_once
from ticket_service.entrypoints.http.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Cursor,
    decode_cursor,
    encode_cursor,
)
from ticket_service.entrypoints.http.rendering import (
    iso,
    opened_payment_public,
    payment_public,
    ticket_public,
)
from ticket_service.entrypoints.http.schemas import OrderCreate
from ticket_service.service_layer import order_views
from ticket_service.service_layer.order_cancellation import (
    CancelOrder,
    OrderCancellationRepository,
    cancel_order,
)
from ticket_service.service_layer.ordering import (
    KEY_REUSED,
    OrderKeyAnswered,
    PlaceOrder,
    place_order,
)
from ticket_service.settings import TicketSettings

router = APIRouter(tags=["orders"])

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
Reader = Annotated[order_views.OrderReader, Depends(bootstrap.order_reader)]
Cancellation = Annotated[OrderCancellationRepository, Depends(bootstrap.order_cancellation)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def _template(request: Request) -> str:
    settings: TicketSettings = request.app.state.settings
    return settings.qr_url_template


def order_public(
    order: Order, tickets: list[Ticket], *, qr_url_template: str, payment: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "id": order.id,
        "event_id": order.event_id,
        "status": order.status,
        "total": order.total,
        "discount": order.discount,
        "currency": order.currency,
        "promo_code": order.promo_code,
        "customer_name": order.customer_name,
        "customer_email": order.customer_email,
        "customer_phone": order.customer_phone,
        "hold_expires_at": iso(order.hold_expires_at) if order.status == "pending" else None,
        "paid_at": iso(order.paid_at),
        "cancelled_at": iso(order.cancelled_at),
        "created_at": iso(order.created_at),
        "items": [
            {
                "ticket_type_id": line.ticket_type_id,
                "name": line.name,
                "price": line.price,
                "quantity": line.quantity,
            }
            for line in order.lines
        ],
        "tickets": [ticket_public(t, qr_url_template=qr_url_template) for t in tickets],
        "payment": payment,
    }


def _pending_payment(tickets: list[Ticket]) -> dict[str, Any] | None:
    return payment_public(tickets[0].pending_payment if tickets else None)


@router.post(
    "/orders",
    status_code=201,
    responses=merge(
        replay_responses(200, 201),
        {201: {"description": "Held (pay through `payment.redirect_url`), or free and active."}},
        declare(404, 409, 422, 429, 502, 503),
    ),
)
async def create_order(
    body: OrderCreate,
    request: Request,
    caller: CurrentUser,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    command = PlaceOrder(
        buyer_id=caller.user_id,
        event_id=str(body.event_id),
        items=tuple(OrderItem(i.ticket_type_id, i.quantity) for i in body.items),
        attendees=tuple(Attendee(a.name, a.email, a.phone or None) for a in body.attendees),
        customer_name=body.customer_name,
        customer_email=body.customer_email,
        customer_phone=body.customer_phone or None,
        promo_code=normalise_promo_code(body.promo_code) if body.promo_code else None,
        idempotency_key=idempotency_key or None,
    )

    async def place() -> Answer | None:
        outcome = await place_order(command, deps=bootstrap.order_deps(request))
        if isinstance(outcome, OrderKeyAnswered):
            return None
        payment = opened_payment_public(outcome.payment) if outcome.payment else None
        body_out = order_public(
            outcome.order, outcome.tickets, qr_url_template=_template(request), payment=payment
        )
        return (201 if outcome.created else 200), {"data": body_out}

    return await answer_once(request, command, reused_message=KEY_REUSED, run=place)


@router.get("/orders", responses=etag_responses())
async def my_orders(
    request: Request,
    reader: Reader,
    caller: CurrentUser,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    page = await order_views.orders_of(
        reader, caller.user_id, after=decode_cursor(cursor), limit=limit
    )
    template = _template(request)
    data = [
        order_public(
            o.order, o.tickets, qr_url_template=template, payment=_pending_payment(o.tickets)
        )
        for o in page.orders
    ]
    next_cursor = encode_cursor(*page.next_after) if page.next_after else None
    return etag_json(request, {"data": data, "next_cursor": next_cursor})


@router.get("/orders/{order_id:uuid}", responses=merge(etag_responses(), declare(404)))
async def get_order(
    order_id: UUID, request: Request, reader: Reader, caller: CurrentUser
) -> Response:
    viewer = Actor(user_id=caller.user_id, is_admin=caller.is_admin)
    found = await order_views.order_for(reader, str(order_id), viewer=viewer)
    body = order_public(
        found.order,
        found.tickets,
        qr_url_template=_template(request),
        payment=_pending_payment(found.tickets),
    )
    return etag_json(request, {"data": body})


@router.post("/orders/{order_id:uuid}/cancel", responses=declare(404, 409))
async def cancel(
    order_id: UUID,
    request: Request,
    caller: CurrentUser,
    reader: Reader,
    repo: Cancellation,
    body: Annotated[CancelRequest | None, Body()] = None,
) -> Response:
    viewer = Actor(user_id=caller.user_id, is_admin=caller.is_admin)
    result = await cancel_order(
        repo,
        CancelOrder(str(order_id), viewer, body.reason if body else None),
        now=datetime.now(UTC),
    )
    found = await order_views.order_for(reader, result.order_id, viewer=viewer)
    data = order_public(
        found.order, found.tickets, qr_url_template=_template(request), payment=None
    )
    return JSONResponse({"data": {**data, "refund_requested": result.refund_requested}})
