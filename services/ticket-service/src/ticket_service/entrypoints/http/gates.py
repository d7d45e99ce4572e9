"""The host's gates: `PUT /events/{id}/check-in-lists/{list_id}` and the event's lists."""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from servicekit.contract import declare
from servicekit.db import DbConn
from servicekit.fields import SINGLE_LINE, Trim

from ticket_service.adapters.gates_repository import SqlGates
from ticket_service.domain.gates import CheckInList, GateTerms
from ticket_service.entrypoints.http.door import LIST_ID, HostOrAdmin, actor_of
from ticket_service.service_layer import gates

router = APIRouter(tags=["door"])


async def _gates(conn: DbConn) -> SqlGates:
    return SqlGates(conn)


Gates = Annotated[SqlGates, Depends(_gates)]
ListId = Annotated[str, Path(pattern=LIST_ID)]
TypeId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class CheckInListPut(BaseModel):
    """A gate: the types it admits (null or absent: every type), re-entry, opening hours."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=SINGLE_LINE), Trim]
    ticket_type_ids: list[TypeId] | None = Field(default=None, min_length=1, max_length=100)
    allow_reentry: bool = False
    opens_at: datetime | None = None
    closes_at: datetime | None = None


def check_in_list_public(gate: CheckInList) -> dict[str, Any]:
    return {
        "id": gate.id,
        "event_id": gate.event_id,
        "name": gate.name,
        "ticket_type_ids": sorted(gate.ticket_type_ids) if gate.ticket_type_ids else None,
        "allow_reentry": gate.allow_reentry,
        "opens_at": gate.opens_at.isoformat() if gate.opens_at else None,
        "closes_at": gate.closes_at.isoformat() if gate.closes_at else None,
    }


@router.put("/events/{event_id:uuid}/check-in-lists/{list_id}", responses=declare(404, 409))
async def put_check_in_list(
    event_id: UUID, list_id: ListId, body: CheckInListPut, principal: HostOrAdmin, repo: Gates
) -> dict[str, Any]:
    terms = GateTerms(
        name=body.name,
        ticket_type_ids=frozenset(body.ticket_type_ids) if body.ticket_type_ids else None,
        allow_reentry=body.allow_reentry,
        opens_at=body.opens_at,
        closes_at=body.closes_at,
    )
    gate = await gates.put_check_in_list(
        repo, event_id=str(event_id), list_id=list_id, terms=terms, actor=actor_of(principal)
    )
    return {"data": check_in_list_public(gate)}


@router.get("/events/{event_id:uuid}/check-in-lists", responses=declare(404))
async def list_check_in_lists(
    event_id: UUID, principal: HostOrAdmin, repo: Gates
) -> dict[str, Any]:
    found = await gates.check_in_lists(repo, event_id=str(event_id), actor=actor_of(principal))
    return {"data": [check_in_list_public(gate) for gate in found], "next_cursor": None}
