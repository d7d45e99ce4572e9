"""The buyer's ticket routes: purchase, my tickets, my transactions, one ticket.

Fixed paths come first, and `/tickets/{ticket_id:uuid}` only matches a UUID, so `my-tickets`
and `transactions` can never be taken for a ticket id.
"""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from servicekit.auth import CurrentUser, Principal
from servicekit.contract import declare, etag_responses, merge, replay_responses
from servicekit.db import DbConn

from ticket_service.adapters import repository as repo
from ticket_service.adapters.rate_limit import PurchaseRateLimiter
from ticket_service.domain.errors import BuyerMismatch, TicketNotFound, TransactionNotFound
from ticket_service.domain.tickets import TicketStatus
from ticket_service.entrypoints.http.caching import etag_json
from ticket_service.entrypoints.http.links import TICKET_LINKS, linked
from ticket_service.entrypoints.http.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Cursor,
    decode_cursor,
    encode_cursor,
)
from ticket_service.entrypoints.http.schemas import PurchaseRequest
from ticket_service.service_layer.purchase import PurchaseDeps, PurchaseTicket, purchase_ticket
from ticket_service.service_layer.views import pending_payment, ticket_public, transaction_public
from ticket_service.settings import TicketSettings

router = APIRouter(tags=["tickets"])

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def _settings(request: Request) -> TicketSettings:
    settings: TicketSettings = request.app.state.settings
    return settings


def _deps(request: Request) -> PurchaseDeps:
    runtime = request.app.state.runtime
    settings = _settings(request)
    return PurchaseDeps(
        pool=runtime.pool,
        outbox=runtime.outbox,
        payments=request.app.state.payments,
        limiter=PurchaseRateLimiter(
            runtime.redis,
            limit=settings.purchase_rate_limit,
            window_seconds=settings.purchase_rate_window_seconds,
        ),
        settings=settings,
    )


def _may_see(caller: Principal, owner_id: str) -> bool:
    return caller.user_id == owner_id or caller.is_admin


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
    answer = await purchase_ticket(
        PurchaseTicket(
            buyer_id=caller.user_id,
            event_id=str(body.event_id),
            customer_name=body.customer_name,
            customer_email=body.customer_email,
            customer_phone=body.customer_phone or None,
            amount=body.amount,
            idempotency_key=idempotency_key or None,
        ),
        deps=_deps(request),
    )
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return JSONResponse(answer.body, status_code=answer.status_code, headers=headers)


@router.get("/tickets/my-tickets", responses=etag_responses())
async def my_tickets(
    request: Request,
    conn: DbConn,
    caller: CurrentUser,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    status: TicketStatus | None = None,
) -> Response:
    rows = await repo.tickets_of_user(
        conn, caller.user_id, after=decode_cursor(cursor), limit=limit + 1, status=status
    )
    template = _settings(request).qr_url_template
    page = [
        _with_payment(row, ticket_public(row, qr_url_template=template)) for row in rows[:limit]
    ]
    next_cursor = (
        encode_cursor(rows[limit - 1]["created_at"], rows[limit - 1]["id"])
        if len(rows) > limit
        else None
    )
    return etag_json(request, {"data": page, "next_cursor": next_cursor})


@router.get("/tickets/transactions", responses=etag_responses())
async def my_transactions(
    request: Request,
    conn: DbConn,
    caller: CurrentUser,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    rows = await repo.transactions_of_user(
        conn, caller.user_id, after=decode_cursor(cursor), limit=limit + 1
    )
    page = [transaction_public(row) for row in rows[:limit]]
    next_cursor = (
        encode_cursor(rows[limit - 1]["created_at"], rows[limit - 1]["id"])
        if len(rows) > limit
        else None
    )
    return etag_json(request, {"data": page, "next_cursor": next_cursor})


@router.get("/tickets/transactions/{transaction_id:uuid}", responses=etag_responses())
async def get_transaction(
    transaction_id: uuid.UUID, request: Request, conn: DbConn, caller: CurrentUser
) -> Response:
    row = await repo.transaction_of(conn, transaction_id)
    if row is None or not _may_see(caller, row["user_id"]):
        raise TransactionNotFound("No such transaction.")
    return etag_json(request, {"data": transaction_public(row)})


@router.get("/tickets/{ticket_id:uuid}", responses=etag_responses())
async def get_ticket(
    ticket_id: uuid.UUID, request: Request, conn: DbConn, caller: CurrentUser
) -> Response:
    row = await repo.ticket_view(conn, ticket_id)
    if row is None or not _may_see(caller, row["user_id"]):
        raise TicketNotFound("No such ticket.")
    ticket = ticket_public(row, qr_url_template=_settings(request).qr_url_template)
    return etag_json(request, {"data": _with_payment(row, ticket)})


def _with_payment(row: repo.Row, ticket: dict[str, Any]) -> dict[str, Any]:
    return {**ticket, "payment": pending_payment(row)}
