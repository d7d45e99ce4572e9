"""The host's live count and the attendee export (issue 15)."""

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from servicekit.app import Runtime
from servicekit.contract import declare
from servicekit.db import DbConn

from ticket_service.adapters.attendees import attendee_rows
from ticket_service.adapters.door_stats_repository import SqlDoorStats
from ticket_service.entrypoints.http.door import DoorCaller, HostOrAdmin, actor_of
from ticket_service.service_layer import gates
from ticket_service.service_layer.door_stats import check_in_stats

router = APIRouter(tags=["door"])

ATTENDEE_COLUMNS = [
    "ticket_id",
    "attendance_code",
    "ticket_type_id",
    "holder_name",
    "holder_email",
    "holder_phone",
    "status",
    "checked_in_at",
    "is_inside",
]


@router.get("/events/{event_id:uuid}/check-in-stats", responses=declare(401, 404))
async def door_stats(
    event_id: UUID,
    actor: DoorCaller,
    conn: DbConn,
    last: Annotated[int, Query(ge=0, le=100)] = 20,
) -> dict[str, Any]:
    """Admitted per list and type, inside now, flagged offline scans, and the last scans."""
    stats = await check_in_stats(SqlDoorStats(conn), event_id=str(event_id), actor=actor, last=last)
    return {
        "data": {
            "admitted": stats.admitted,
            "inside": stats.inside,
            "flagged": stats.flagged,
            "by_list_and_type": [asdict(c) for c in stats.by_list_and_type],
            "last_scans": [
                {**asdict(s), "scanned_at": s.scanned_at.isoformat()} for s in stats.last_scans
            ],
        }
    }


@router.get(
    "/events/{event_id:uuid}/attendees.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}, **declare(403, 404)},
)
async def attendees_csv(
    event_id: UUID, principal: HostOrAdmin, conn: DbConn, request: Request
) -> StreamingResponse:
    """Every ticket of the event but unpaid holds, streamed from a server-side cursor."""
    actor = actor_of(principal)
    await gates.run_host_of(SqlDoorStats(conn), str(event_id), actor)
    runtime: Runtime = request.app.state.runtime
    return StreamingResponse(
        _csv(runtime, str(event_id)),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="attendees-{event_id}.csv"',
            "Cache-Control": "private, no-store",
        },
    )


async def _csv(runtime: Runtime, event_id: str) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: list[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield line(ATTENDEE_COLUMNS)
    # Its own connection: the request's goes back to the pool before the body is sent.
    async with runtime.pool.acquire() as conn:
        async for row in attendee_rows(conn, event_id):
            yield line([_cell(row[c]) for c in ATTENDEE_COLUMNS])


def _cell(value: Any) -> Any:
    """Defuses spreadsheet formulas in what holders typed (=, +, -, @ first)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return "" if value is None else value
