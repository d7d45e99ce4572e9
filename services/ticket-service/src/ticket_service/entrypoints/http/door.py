"""The door: check-in by attendance code or signed QR, and the ticket's QR image.

Fixed paths come first; `/tickets/{ticket_id:uuid}/...` only matches a UUID.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, Self
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from servicekit.app import Runtime
from servicekit.auth import CurrentUser, Principal, current_principal, require_roles
from servicekit.contract import declare, error_statuses, merge, replay_responses
from servicekit.errors import DomainErrorMap, Forbidden, Unauthorized

from ticket_service import bootstrap
from ticket_service.adapters import check_in_keys, qr_image
from ticket_service.adapters import scanners_repository as scanners
from ticket_service.adapters.door_guard import RedisDoorGuard
from ticket_service.adapters.host_tools_repository import SqlHostToolsRepository
from ticket_service.domain import door, gates
from ticket_service.domain.gates import DEFAULT_LIST_ID, Direction
from ticket_service.domain.offline_qr import qr_key_ref, sign_offline_qr, verify_offline_qr
from ticket_service.domain.qr_codes import QrClaims, verify_qr_payload
from ticket_service.domain.scanners import ScannerNotFound, ScannerRevoked
from ticket_service.domain.tickets import TicketStatus
from ticket_service.entrypoints.http.rendering import ticket_public
from ticket_service.service_layer.check_in import CheckIn, check_in
from ticket_service.settings import TicketSettings

router = APIRouter(tags=["door"])

HostOrAdmin = Annotated[Principal, require_roles("host", "admin")]
DoorRepo = Annotated[SqlHostToolsRepository, Depends(bootstrap.door_repository)]
Guard = Annotated[RedisDoorGuard, Depends(bootstrap.door_guard)]
LIST_ID = r"^[A-Za-z0-9_-]{1,64}$"

DOOR_ERRORS: DomainErrorMap = {
    door.AlreadyCheckedIn: (409, "already_checked_in"),
    door.TicketNotActive: (409, "ticket_not_active"),
    door.AmbiguousCode: (409, "ambiguous_code"),
    door.WrongEvent: (409, "wrong_event"),
    door.NonceReused: (409, "nonce_reused"),
    door.NotCancellable: (409, "ticket_not_cancellable"),
    door.EventAlreadyStarted: (409, "event_started"),
    door.InvalidQrCode: (422, "invalid_qr_code"),
    door.DoorRateLimited: (429, "rate_limited"),
    gates.CheckInListNotFound: (404, "check_in_list_not_found"),
    gates.TicketTypeNotFound: (404, "ticket_type_not_found"),
    # 409 like a conflict: the schema cannot say "opens_at before closes_at", so a schema-valid
    # body can still be refused (the contract test holds 422 to schema violations).
    gates.InvalidCheckInList: (409, "invalid_check_in_list"),
    gates.NotOnList: (409, "ticket_not_on_list"),
    gates.ListClosed: (409, "check_in_list_closed"),
    gates.NotInside: (409, "not_inside"),
    ScannerNotFound: (404, "scanner_not_found"),
    # The same answer as a revoked token gets at the door's gate (door_caller).
    ScannerRevoked: (401, "invalid_token"),
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
    list_id: str = Field(default=DEFAULT_LIST_ID, pattern=LIST_ID)
    direction: Literal["in", "out"] = "in"

    @model_validator(mode="after")
    def _one_way_to_name_the_ticket(self) -> Self:
        if (self.attendance_code is None) == (self.qr_payload is None):
            raise ValueError("send either attendance_code or qr_payload")
        return self


def door_settings(request: Request) -> TicketSettings:
    settings: TicketSettings = request.app.state.settings
    return settings


def qr_verifier(request: Request) -> Callable[[str], Awaitable[QrClaims]]:
    """Offline QRs (Ed25519, the event's public key) and the HMAC QRs issued before them."""
    settings = door_settings(request)
    runtime: Runtime = request.app.state.runtime

    async def verify(payload: str) -> QrClaims:
        ref = qr_key_ref(payload)
        if ref is None:
            return verify_qr_payload(payload, settings.signing_keys)
        event_id, key_id = ref
        key = await check_in_keys.public_key(runtime.pool, event_id, key_id)
        return verify_offline_qr(payload, {key_id: key} if key else {})

    return verify


def actor_of(principal: Principal) -> door.Actor:
    return door.Actor(user_id=principal.user_id, is_admin=principal.is_admin)


@error_statuses(401, 403)
async def door_caller(request: Request) -> door.Actor:
    """A scanner by its token, or a host or admin by their JWT."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and token.startswith(scanners.TOKEN_PREFIX):
        runtime: Runtime = request.app.state.runtime
        actor = await scanners.scanner_actor(runtime.pool, token)
        if actor is None:
            raise Unauthorized("This scanner token is not valid.", code="invalid_token")
        return actor
    principal = await current_principal(request)
    if not principal.has_role("host", "admin"):
        raise Forbidden("This needs one of the roles: host, admin, or a scanner token.")
    return actor_of(principal)


DoorCaller = Annotated[door.Actor, Depends(door_caller)]


@router.post(
    "/tickets/check-in", responses=merge(replay_responses(200), declare(404, 409, 422, 429))
)
async def check_in_ticket(
    body: CheckInRequest,
    actor: DoorCaller,
    guard: Guard,
    request: Request,
    response: Response,
) -> dict[str, Any]:
    """Admit (or let out) a ticket through a gate: the event's default list unless `list_id`.

    The event's host or an admin (JWT), or one of the event's scanners (its token).
    """
    settings = door_settings(request)

    verify = qr_verifier(request)

    command = CheckIn(
        actor=actor,
        attendance_code=body.attendance_code,
        qr_payload=body.qr_payload,
        event_id=str(body.event_id) if body.event_id else None,
        nonce=body.nonce,
        list_id=body.list_id,
        direction=Direction(body.direction),
    )
    async with bootstrap.door_store(request)() as repo:
        admitted = await check_in(repo, command, verify_qr=verify, guard=guard)
    if admitted.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return {"data": ticket_public(admitted.ticket, qr_url_template=settings.qr_url_template)}


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
    repo: DoorRepo,
    request: Request,
    format: Annotated[Literal["png", "svg", "json"], Query()] = "png",
) -> Response:
    """The signed QR of an active ticket, for its holder or the event's host (or an admin)."""
    ticket = await repo.ticket(str(ticket_id))
    actor = actor_of(principal)
    if ticket is None or not (actor.user_id == ticket.user_id or actor.runs(ticket.host_id)):
        raise door.TicketNotFound("No such ticket.")
    if ticket.status != TicketStatus.ACTIVE:
        raise door.TicketNotActive(ticket.status)
    key_id, private_key = await check_in_keys.signing_key(repo.conn, ticket.event_id)
    gate_ticket = await repo.gate_ticket(ticket.id)
    payload = sign_offline_qr(
        event_id=ticket.event_id,
        ticket_id=ticket.id,
        attendance_code=ticket.attendance_code,
        ticket_type_id=gate_ticket.ticket_type_id if gate_ticket else None,
        key_id=key_id,
        private_key=private_key,
    )
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
