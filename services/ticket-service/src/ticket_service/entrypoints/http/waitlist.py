"""The waiting list's routes: join, where I stand, leave, take an offer; the host's offer time."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from servicekit.auth import CurrentUser, Principal, require_roles
from servicekit.contract import declare, merge
from servicekit.errors import DomainErrorMap

from ticket_service import bootstrap
from ticket_service.domain import waitlist
from ticket_service.domain.waitlist import OfferOrder, Place, WaitlistOffer
from ticket_service.entrypoints.http.rendering import opened_payment_public, ticket_with_payment
from ticket_service.entrypoints.http.schemas import WaitlistJoin, WaitlistSettingsPut
from ticket_service.service_layer.offer_acceptance import accept_offer
from ticket_service.service_layer.waitlist import (
    JoinWaitlist,
    WaitlistRepository,
    join_waitlist,
    leave_waitlist,
    place_on_waitlist,
    set_offer_minutes,
)
from ticket_service.settings import TicketSettings

router = APIRouter(tags=["waitlist"])

Waitlist = Annotated[WaitlistRepository, Depends(bootstrap.waitlist_repository)]
TypeId = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,64}$")]

WAITLIST_ERRORS: DomainErrorMap = {
    waitlist.AlreadyWaiting: (409, "already_waiting"),
    waitlist.SeatsAvailable: (409, "seats_available"),
    waitlist.NoSuchLine: (404, "ticket_type_not_found"),
    waitlist.TooManySeats: (409, "too_many_seats"),
    waitlist.NotWaiting: (404, "not_waiting"),
    waitlist.OfferNotFound: (404, "offer_not_found"),
    waitlist.OfferNotOpen: (409, "offer_not_open"),
}


def _settings(request: Request) -> TicketSettings:
    settings: TicketSettings = request.app.state.settings
    return settings


def offer_public(offer: WaitlistOffer | None) -> dict[str, Any] | None:
    if offer is None:
        return None
    return {
        "id": offer.id,
        "status": offer.status.value,
        "seats": offer.seats,
        "price": offer.price,
        "total": offer.price * offer.seats,
        "currency": "IDR",
        "expires_at": offer.expires_at.isoformat(),
    }


def place_public(place: Place) -> dict[str, Any]:
    entry = place.entry
    return {
        "event_id": entry.event_id,
        "ticket_type_id": entry.ticket_type_id,
        "status": entry.status.value,
        "position": place.position,
        "quantity": entry.quantity,
        "joined_at": entry.joined_at.isoformat(),
        "offer": offer_public(place.offer),
    }


def order_public(order: OfferOrder, *, qr_url_template: str) -> dict[str, Any]:
    return {
        "purchase_order_id": order.purchase_order_id,
        "event_id": order.offer.event_id,
        "ticket_type_id": order.offer.ticket_type_id,
        "total": order.total,
        "currency": "IDR",
        "offer": offer_public(order.offer),
        "tickets": [ticket_with_payment(t, qr_url_template=qr_url_template) for t in order.tickets],
    }


@router.post(
    "/events/{event_id:uuid}/waitlist",
    status_code=201,
    responses=merge(
        {201: {"description": "You are in line; `position` 1 is next."}},
        declare(404, 409, 422),
    ),
)
async def join(
    event_id: uuid.UUID, body: WaitlistJoin, repo: Waitlist, caller: CurrentUser
) -> Response:
    place = await join_waitlist(
        repo,
        JoinWaitlist(
            user_id=caller.user_id,
            event_id=str(event_id),
            ticket_type_id=body.ticket_type_id,
            quantity=body.quantity,
            customer_name=body.customer_name,
            customer_email=body.customer_email,
            customer_phone=body.customer_phone or None,
        ),
    )
    return JSONResponse({"data": place_public(place)}, status_code=201)


@router.get("/events/{event_id:uuid}/waitlist", responses=declare(404))
async def my_place(
    event_id: uuid.UUID, repo: Waitlist, caller: CurrentUser, ticket_type_id: TypeId = None
) -> Response:
    place = await place_on_waitlist(
        repo, event_id=str(event_id), user_id=caller.user_id, ticket_type_id=ticket_type_id
    )
    return JSONResponse({"data": place_public(place)})


@router.delete("/events/{event_id:uuid}/waitlist", status_code=204, responses=declare(404))
async def leave(
    event_id: uuid.UUID, repo: Waitlist, caller: CurrentUser, ticket_type_id: TypeId = None
) -> Response:
    await leave_waitlist(
        repo, event_id=str(event_id), user_id=caller.user_id, ticket_type_id=ticket_type_id
    )
    return Response(status_code=204)


@router.put("/events/{event_id:uuid}/waitlist/settings", responses=declare(403, 404, 422))
async def put_settings(
    event_id: uuid.UUID,
    body: WaitlistSettingsPut,
    repo: Waitlist,
    caller: Principal = require_roles("host", "admin"),
) -> Response:
    minutes = await set_offer_minutes(
        repo,
        event_id=str(event_id),
        caller_id=caller.user_id,
        caller_is_admin=caller.is_admin,
        minutes=body.offer_minutes,
    )
    return JSONResponse({"data": {"event_id": str(event_id), "offer_minutes": minutes}})


@router.post(
    "/waitlist/offers/{offer_id:uuid}/accept",
    status_code=201,
    responses=merge(
        {201: {"description": "The order holds the offer's seats; pay through `payment`."}},
        {200: {"description": "Accepted before: the order as it stands."}},
        declare(404, 409, 502, 503),
    ),
)
async def accept(offer_id: uuid.UUID, request: Request, caller: CurrentUser) -> Response:
    accepted = await accept_offer(
        str(offer_id), user_id=caller.user_id, deps=bootstrap.acceptance_deps(request)
    )
    template = _settings(request).qr_url_template
    body = order_public(accepted.order, qr_url_template=template)
    body["payment"] = opened_payment_public(accepted.payment) if accepted.payment else None
    if accepted.payment is None and not accepted.created:
        body["payment"] = body["tickets"][0]["payment"]
    return JSONResponse({"data": body}, status_code=201 if accepted.created else 200)
