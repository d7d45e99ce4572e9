"""The host's tools: an event's tickets and counts, lookup by code, comps, corrections, cancel.

Fixed paths come first; `/tickets/{ticket_id:uuid}` only matches a UUID.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Body, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic.json_schema import SkipJsonSchema
from servicekit.auth import CurrentUser
from servicekit.contract import declare, merge
from servicekit.fields import SINGLE_LINE, Email, Trim

from ticket_service.domain.entities import Ticket
from ticket_service.domain.errors import TicketNotFound
from ticket_service.domain.tickets import TicketStatus
from ticket_service.entrypoints.http.door import (
    DoorRepo,
    Guard,
    HostOrAdmin,
    actor_of,
    door_settings,
)
from ticket_service.entrypoints.http.links import TICKET_LINKS, linked
from ticket_service.entrypoints.http.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Cursor,
    decode_cursor,
    encode_cursor,
)
from ticket_service.entrypoints.http.rendering import ticket_public
from ticket_service.service_layer import host_tools
from ticket_service.service_layer.cancellation import CancelTicket, cancel_ticket
from ticket_service.service_layer.check_in import find_by_code

router = APIRouter(tags=["host tools"])

TicketStatusName = Literal["pending", "active", "cancelled", "expired", "refunded"]
HolderName = Annotated[str, StringConstraints(max_length=200, pattern=SINGLE_LINE), Trim]
HolderPhone = Annotated[
    str, StringConstraints(min_length=3, max_length=32, pattern=SINGLE_LINE), Trim
]


class ComplimentaryTicketCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: UUID
    user_id: Annotated[str, StringConstraints(max_length=128, pattern=SINGLE_LINE), Trim] = Field(
        description="The holder's user id"
    )
    holder_name: HolderName
    holder_email: Email
    holder_phone: HolderPhone | None = None


class HolderCorrection(BaseModel):
    """Only the holder's details can be corrected; status, price and code are not editable.

    A field left out stays as it is; name and e-mail cannot be null (a ticket always has a
    holder), the phone can (null removes it).
    """

    model_config = ConfigDict(extra="forbid")

    # SkipJsonSchema: the schema says string (null is refused below), absent means unchanged.
    holder_name: HolderName | SkipJsonSchema[None] = None
    holder_email: Email | SkipJsonSchema[None] = None
    holder_phone: HolderPhone | None = None

    @field_validator("holder_name", "holder_email", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be null: leave the field out to keep it as it is")
        return value


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(max_length=500, pattern=SINGLE_LINE), Trim] | None = (
        None
    )


def _public(ticket: Ticket, request: Request) -> dict[str, Any]:
    return ticket_public(ticket, qr_url_template=door_settings(request).qr_url_template)


@router.get("/events/{event_id:uuid}/tickets")
async def event_tickets(
    event_id: UUID,
    principal: HostOrAdmin,
    repo: DoorRepo,
    request: Request,
    status: TicketStatusName | None = None,
    checked_in: bool | None = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> dict[str, Any]:
    page = await host_tools.list_event_tickets(
        repo,
        event_id=str(event_id),
        actor=actor_of(principal),
        status=TicketStatus(status) if status else None,
        checked_in=checked_in,
        after=decode_cursor(cursor),
        limit=limit,
    )
    last = page.tickets[-1] if page.tickets else None
    return {
        "data": [_public(ticket, request) for ticket in page.tickets],
        "next_cursor": encode_cursor(last.purchased_at, UUID(last.id))
        if page.has_more and last
        else None,
        "counts": page.counts,
    }


@router.get("/tickets/by-code/{code}", responses=declare(409, 429))
async def ticket_by_code(
    code: Annotated[str, Path(max_length=16)],
    principal: HostOrAdmin,
    repo: DoorRepo,
    guard: Guard,
    request: Request,
    event_id: UUID | None = None,
) -> dict[str, Any]:
    """A ticket of the caller's events by its code; a stranger's answer tells nothing."""
    actor = actor_of(principal)
    await guard.check(actor)
    try:
        ticket = await find_by_code(
            repo, code, actor=actor, event_id=str(event_id) if event_id else None
        )
    except TicketNotFound:
        await guard.failed(actor, "TicketNotFound")
        raise
    found = await repo.view(ticket.id)
    assert found is not None
    return {"data": _public(found, request)}


@router.post(
    "/tickets",
    status_code=201,
    responses=merge(linked(TICKET_LINKS, 201), declare(404, 409, 503)),
)
async def issue_complimentary_ticket(
    body: ComplimentaryTicketCreate, principal: HostOrAdmin, repo: DoorRepo, request: Request
) -> dict[str, Any]:
    ticket = await host_tools.issue_complimentary(
        repo,
        host_tools.IssueComplimentary(**{**body.model_dump(), "event_id": str(body.event_id)}),
        actor=actor_of(principal),
    )
    return {"data": _public(ticket, request)}


@router.put("/tickets/{ticket_id:uuid}")
async def correct_holder(
    ticket_id: UUID,
    body: HolderCorrection,
    principal: HostOrAdmin,
    repo: DoorRepo,
    request: Request,
) -> dict[str, Any]:
    ticket = await host_tools.correct_holder(
        repo,
        ticket_id=str(ticket_id),
        actor=actor_of(principal),
        changes=body.model_dump(exclude_unset=True),
    )
    return {"data": _public(ticket, request)}


@router.post("/tickets/{ticket_id:uuid}/cancel", responses=declare(409))
async def cancel(
    ticket_id: UUID,
    principal: CurrentUser,
    repo: DoorRepo,
    request: Request,
    body: Annotated[CancelRequest | None, Body()] = None,
) -> dict[str, Any]:
    result = await cancel_ticket(
        repo,
        CancelTicket(str(ticket_id), actor_of(principal), body.reason if body else None),
        now=datetime.now(UTC),
    )
    ticket = await repo.view(result.ticket.id)
    assert ticket is not None
    return {"data": {**_public(ticket, request), "refund_requested": result.refund_requested}}
