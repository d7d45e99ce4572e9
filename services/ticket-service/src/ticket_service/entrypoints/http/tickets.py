"""The buyer's ticket routes: purchase, my tickets, my transactions, one ticket.

Fixed paths come first, and `/tickets/{ticket_id:uuid}` only matches a UUID, so `my-tickets`
and `transactions` can never be taken for a ticket id.
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from servicekit.auth import CurrentUser
from servicekit.contract import declare, etag_responses, merge, replay_responses

from ticket_service import bootstrap
from ticket_service.domain.door import Actor
from ticket_service.domain.errors import BuyerMismatch
from ticket_service.domain.tickets import TicketStatus
from ticket_service.entrypoints.http.caching import etag_json
from ticket_service.entrypoints.http.idempotent import Answer, answer_once
from ticket_service.entrypoints.http.links import TICKET_LINKS, linked
from ticket_service.entrypoints.http.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Cursor,
    decode_cursor,
    encode_cursor,
)
from ticket_service.entrypoints.http.rendering import (
    opened_payment_public,
    ticket_public,
    ticket_with_payment,
    transaction_public,
)
from ticket_service.entrypoints.http.schemas import PurchaseRequest
from ticket_service.service_layer import views
from ticket_service.service_layer.purchase import (
    KEY_REUSED,
    KeyAnswered,
    PurchaseTicket,
    purchase_ticket,
)
from ticket_service.settings import TicketSettings

router = APIRouter(tags=["tickets"])

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
Reader = Annotated[views.TicketReader, Depends(bootstrap.ticket_reader)]


def _settings(request: Request) -> TicketSettings:
    settings: TicketSettings = request.app.state.settings
    return settings


@router.post(
    "/tickets/purchase",
    status_code=201,
    responses=merge(
        replay_responses(200, 201),
        linked(TICKET_LINKS, 200, 201),
        {200: {"description": "A free ticket, active at once (or a replayed answer)."}},
        {201: {"description": "The seat is held; pay through `payment.redirect_url`."}},
        declare(403, 404, 409, 422, 429, 502, 503),
    ),
)
async def purchase(
    body: PurchaseRequest,
    request: Request,
    caller: CurrentUser,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    if body.user_id is not None and body.user_id != caller.user_id:
        raise BuyerMismatch("user_id must be the signed-in user; you can only buy for yourself.")
    command = PurchaseTicket(
        buyer_id=caller.user_id,
        event_id=str(body.event_id),
        customer_name=body.customer_name,
        customer_email=body.customer_email,
        customer_phone=body.customer_phone or None,
        amount=body.amount,
        idempotency_key=idempotency_key or None,
    )

    async def buy() -> Answer | None:
        outcome = await purchase_ticket(command, deps=bootstrap.purchase_deps(request))
        if isinstance(outcome, KeyAnswered):
            return None
        ticket = ticket_public(outcome.ticket, qr_url_template=_settings(request).qr_url_template)
        payment = opened_payment_public(outcome.payment) if outcome.payment else None
        return (201 if outcome.created else 200), {"data": {**ticket, "payment": payment}}

    return await answer_once(request, command, reused_message=KEY_REUSED, run=buy)


@router.get("/tickets/my-tickets", responses=etag_responses())
async def my_tickets(
    request: Request,
    reader: Reader,
    caller: CurrentUser,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    status: TicketStatus | None = None,
) -> Response:
    page = await views.tickets_of(
        reader, caller.user_id, after=decode_cursor(cursor), limit=limit, status=status
    )
    template = _settings(request).qr_url_template
    data = [ticket_with_payment(t, qr_url_template=template) for t in page.tickets]
    next_cursor = encode_cursor(*page.next_after) if page.next_after else None
    return etag_json(request, {"data": data, "next_cursor": next_cursor})


@router.get("/tickets/transactions", responses=etag_responses())
async def my_transactions(
    request: Request,
    reader: Reader,
    caller: CurrentUser,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    page = await views.transactions_of(
        reader, caller.user_id, after=decode_cursor(cursor), limit=limit
    )
    data = [transaction_public(t) for t in page.transactions]
    next_cursor = encode_cursor(*page.next_after) if page.next_after else None
    return etag_json(request, {"data": data, "next_cursor": next_cursor})


@router.get("/tickets/transactions/{transaction_id:uuid}", responses=etag_responses())
async def get_transaction(
    transaction_id: uuid.UUID, request: Request, reader: Reader, caller: CurrentUser
) -> Response:
    viewer = Actor(user_id=caller.user_id, is_admin=caller.is_admin)
    transaction = await views.transaction_for(reader, str(transaction_id), viewer=viewer)
    return etag_json(request, {"data": transaction_public(transaction)})


@router.get("/tickets/{ticket_id:uuid}", responses=etag_responses())
async def get_ticket(
    ticket_id: uuid.UUID, request: Request, reader: Reader, caller: CurrentUser
) -> Response:
    viewer = Actor(user_id=caller.user_id, is_admin=caller.is_admin)
    ticket = await views.ticket_for(reader, str(ticket_id), viewer=viewer)
    template = _settings(request).qr_url_template
    return etag_json(request, {"data": ticket_with_payment(ticket, qr_url_template=template)})
