"""Ticketed events: a host sets price, seats and sale window; users read availability."""

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from servicekit.auth import CurrentUser, Principal, require_roles
from servicekit.contract import declare, etag_responses, merge
from servicekit.db import DbConn

from ticket_service.adapters import repository as repo
from ticket_service.domain.errors import EventNotFound
from ticket_service.entrypoints.http.caching import etag_json
from ticket_service.entrypoints.http.links import EVENT_LINKS, linked
from ticket_service.entrypoints.http.schemas import TicketedEventPut
from ticket_service.service_layer.ticketed_events import PutTicketedEvent, put_ticketed_event
from ticket_service.service_layer.views import event_public

router = APIRouter(tags=["events"])


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
    conn: DbConn,
    caller: Principal = require_roles("host", "admin"),
) -> Response:
    created, row = await put_ticketed_event(
        conn,
        PutTicketedEvent(
            event_id=str(event_id),
            caller_id=caller.user_id,
            caller_is_admin=caller.is_admin,
            **body.model_dump(),
        ),
    )
    return JSONResponse(
        {"data": event_public(row, datetime.now(UTC))}, status_code=201 if created else 200
    )


@router.get("/events/{event_id:uuid}", responses=etag_responses())
async def get_event(
    event_id: uuid.UUID, request: Request, conn: DbConn, _caller: CurrentUser
) -> Response:
    row = await repo.get_event(conn, str(event_id))
    if row is None:
        raise EventNotFound("No ticketed event with this id.")
    return etag_json(request, {"data": event_public(row, datetime.now(UTC))})
