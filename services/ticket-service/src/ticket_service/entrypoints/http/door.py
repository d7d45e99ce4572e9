"""The door: check-in by attendance code or signed QR, and the ticket's QR image.

Fixed paths come first; `/tickets/{ticket_id:uuid}/...` only matches a UUID.
"""

import asyncio
from typing import Annotated, Any, Literal, Self
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from servicekit.auth import CurrentUser, Principal, require_roles
from servicekit.contract import declare, merge, replay_responses
from servicekit.db import DbConn
from servicekit.errors import DomainErrorMap

from ticket_service.adapters import qr_image
from ticket_service.adapters.door_repository import SqlDoorRepository
from ticket_service.domain import door
from ticket_service.domain.qr_codes import QrClaims, sign_qr_payload, verify_qr_payload
from ticket_service.service_layer.check_in import CheckIn, check_in
from ticket_service.service_layer.views import ticket_public
from ticket_service.settings import TicketSettings

router = APIRouter(tags=["door"])

HostOrAdmin = Annotated[Principal, require_roles("host", "admin")]

DOOR_ERRORS: DomainErrorMap = {
    door.AlreadyCheckedIn: (409, "already_checked_in"),
    door.TicketNotActive: (409, "ticket_not_active"),
    door.AmbiguousCode: (409, "ambiguous_code"),
    door.WrongEvent: (409, "wrong_event"),
    door.NonceReused: (409, "nonce_reused"),
    door.NotCancellable: (409, "ticket_not_cancellable"),
    door.EventAlreadyStarted: (409, "event_started"),
    door.InvalidQrCode: (422, "invalid_qr_code"),
}
"""Refusals of the door and the host's tools; bootstrap merges them into the service's map."""


class CheckInRequest(BaseModel):
    """The seed's `{"attendance_code"}`, or what the scanner read from the QR code."""

    model_config = ConfigDict(
        extra="forbid",
        # Exactly one of the two names the ticket (null counts as absent), as validated below.
        json_schema_extra={
            "oneOf": [
                {
                    "required": ["attendance_code"],
                    "properties": {"attendance_code": {"type": "string"}},
                },
                {"required": ["qr_payload"], "properties": {"qr_payload": {"type": "string"}}},
            ]
        },
    )

    attendance_code: str | None = Field(default=None, min_length=1, max_length=16)
    qr_payload: str | None = Field(default=None, min_length=1, max_length=512)
    event_id: UUID | None = None
    nonce: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Client-made id of this scan; a retry with it gets the first answer back.",
    )

    @model_validator(mode="after")
    def _one_way_to_name_the_ticket(self) -> Self:
        if (self.attendance_code is None) == (self.qr_payload is None):
            raise ValueError("send either attendance_code or qr_payload")
        return self


def door_settings(request: Request) -> TicketSettings:
    settings: TicketSettings = request.app.state.settings
    return settings


def actor_of(principal: Principal) -> door.Actor:
    return door.Actor(user_id=principal.user_id, is_admin=principal.is_admin)


@router.post("/tickets/check-in", responses=merge(replay_responses(200), declare(404, 409, 422)))
async def check_in_ticket(
    body: CheckInRequest, principal: HostOrAdmin, conn: DbConn, request: Request, response: Response
) -> dict[str, Any]:
    settings = door_settings(request)

    def verify(payload: str) -> QrClaims:
        return verify_qr_payload(payload, settings.signing_keys)

    command = CheckIn(
        actor=actor_of(principal),
        attendance_code=body.attendance_code,
        qr_payload=body.qr_payload,
        event_id=str(body.event_id) if body.event_id else None,
        nonce=body.nonce,
    )
    repo = SqlDoorRepository(conn, request.app.state.runtime.outbox)
    admitted = await check_in(repo, command, verify_qr=verify)
    if admitted.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    row = await repo.row(admitted.ticket.id)
    return {"data": ticket_public(row, qr_url_template=settings.qr_url_template)}


@router.get(
    "/tickets/{ticket_id:uuid}/qr",
    responses=merge(
        {200: {"content": {"image/png": {}, "image/svg+xml": {}, "application/json": {}}}},
        declare(409),
    ),
)
async def ticket_qr(
    ticket_id: UUID,
    principal: CurrentUser,
    conn: DbConn,
    request: Request,
    format: Annotated[Literal["png", "svg", "json"], Query()] = "png",
) -> Response:
    """The signed QR of an active ticket, for its holder or the event's host (or an admin)."""
    settings = door_settings(request)
    repo = SqlDoorRepository(conn, request.app.state.runtime.outbox)
    ticket = await repo.ticket(str(ticket_id))
    actor = actor_of(principal)
    if ticket is None or not (actor.user_id == ticket.user_id or actor.runs(ticket.host_id)):
        raise door.TicketNotFound("No such ticket.")
    if ticket.status != "active":
        raise door.TicketNotActive(ticket.status)
    payload = sign_qr_payload(ticket.id, ticket.attendance_code, settings.signing_keys)
    headers = {"Cache-Control": "private, no-store"}
    if format == "json":
        body = {"data": {"ticket_id": ticket.id, "qr_payload": payload}}
        return JSONResponse(body, headers=headers)
    # Off the event loop: drawing is CPU work that would stall every other request.
    if format == "svg":
        svg = await asyncio.to_thread(qr_image.render_svg, payload)
        return Response(svg, media_type="image/svg+xml", headers=headers)
    png = await asyncio.to_thread(qr_image.render_png, payload)
    return Response(png, media_type="image/png", headers=headers)
