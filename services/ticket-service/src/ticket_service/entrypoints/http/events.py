"""Ticketed events: a host sets price, seats and sale window; users read availability."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from servicekit.auth import CurrentUser, Principal, require_roles
from servicekit.contract import declare, etag_responses, merge

from ticket_service import bootstrap
from ticket_service.domain.door import Actor
from ticket_service.domain.entities import EventTerms
from ticket_service.entrypoints.http.caching import etag_json
from ticket_service.entrypoints.http.links import EVENT_LINKS, linked
from ticket_service.entrypoints.http.rendering import event_public
from ticket_service.entrypoints.http.schemas import TicketedEventPut
from ticket_service.service_layer import views
from ticket_service.service_layer.sale_setup import SaleSetupRepository
from ticket_service.service_layer.ticketed_events import (
    PutTicketedEvent,
    TicketedEventRepository,
    put_ticketed_event,
)

router = APIRouter(tags=["events"])

Events = Annotated[TicketedEventRepository, Depends(bootstrap.ticketed_events)]
Reader = Annotated[views.TicketReader, Depends(bootstrap.ticket_reader)]
Setup = Annotated[SaleSetupRepository, Depends(bootstrap.sale_setup)]


@router.put(
    "/events/{event_id:uuid}",
    responses=merge(
        {200: {"description": "Updated."}, 201: {"description": "Created."}},
        linked(EVENT_LINKS, 200, 201),
        declare(409, 422),
    ),
)
async def put_event(
    event_id: uuid.UUID,
    body: TicketedEventPut,
    events: Events,
    caller: Principal = require_roles("host", "admin"),
) -> Response:
    result = await put_ticketed_event(
        events,
        PutTicketedEvent(
            event_id=str(event_id),
            caller_id=caller.user_id,
            caller_is_admin=caller.is_admin,
            terms=EventTerms(**body.model_dump(exclude={"host_id"})),
            host_id=body.host_id,
        ),
    )
    return JSONResponse(
        {"data": event_public(result.event, datetime.now(UTC))},
        status_code=201 if result.created else 200,
    )


@router.get("/events/{event_id:uuid}", responses=etag_responses())
async def get_event(
    event_id: uuid.UUID, request: Request, reader: Reader, setup: Setup, caller: CurrentUser
) -> Response:
    """The event and its ticket types in position order (hidden ones for its host only)."""
    event = await views.ticketed_event(reader, str(event_id))
    viewer = Actor(user_id=caller.user_id, is_admin=caller.is_admin)
    kinds = [
        kind
        for kind in await setup.ticket_types(event.id)
        if not kind.hidden or viewer.runs(event.host_id)
    ]
    return etag_json(request, {"data": event_public(event, datetime.now(UTC), kinds)})
