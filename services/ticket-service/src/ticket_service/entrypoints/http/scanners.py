"""Offline scanners: registering, listing and revoking one, syncing a list, uploading scans.

The list and sync calls take the event's host (or an admin) with their JWT, or one of the
event's scanners with its scanner token (`Authorization: Bearer scn_...`); managing scanners
takes the host or an admin.
"""

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from servicekit.app import Runtime
from servicekit.contract import declare
from servicekit.db import DbConn
from servicekit.fields import SINGLE_LINE, Trim

from ticket_service import bootstrap
from ticket_service.adapters import check_in_keys
from ticket_service.adapters import scanners_repository as scanners
from ticket_service.adapters.gates_repository import SqlGates
from ticket_service.adapters.offline_door_repository import SqlOfflineDoor
from ticket_service.adapters.scanners_repository import SqlScanners
from ticket_service.domain.gates import CheckInListNotFound, Direction
from ticket_service.domain.offline_qr import public_key_text
from ticket_service.domain.offline_scans import OfflineScan
from ticket_service.domain.scanners import Scanner
from ticket_service.entrypoints.http.door import LIST_ID, DoorCaller, HostOrAdmin, actor_of
from ticket_service.entrypoints.http.gates import Gates, ListId
from ticket_service.service_layer import gates
from ticket_service.service_layer import scanners as devices
from ticket_service.service_layer.offline_door import sync_scans

router = APIRouter(tags=["door"])
Scanners = Annotated[SqlScanners, Depends(bootstrap.scanners_repository)]

MAX_SCANS = 500


class ScannerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=SINGLE_LINE), Trim]
    list_ids: list[Annotated[str, StringConstraints(pattern=LIST_ID)]] | None = Field(
        default=None, min_length=1, max_length=50, description="null: every list of the event"
    )


class ScanUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nonce: str = Field(min_length=1, max_length=200)
    ticket_id: str | None = Field(default=None, max_length=64)
    attendance_code: str | None = Field(default=None, max_length=16)
    list_id: str = Field(default="default", pattern=LIST_ID)
    direction: Literal["in", "out"] = "in"
    scanned_at: datetime


class ScanBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scans: list[ScanUpload] = Field(min_length=1, max_length=MAX_SCANS)


@router.post("/events/{event_id:uuid}/scanners", status_code=201, responses=declare(403, 404))
async def register_scanner(
    event_id: UUID, body: ScannerCreate, principal: HostOrAdmin, repo: Scanners, lists: Gates
) -> dict[str, Any]:
    """A device for this event's door; the token is shown once, in this answer."""
    scanner = await devices.register_scanner(
        repo,
        lists,
        event_id=str(event_id),
        name=body.name,
        list_ids=body.list_ids,
        actor=actor_of(principal),
    )
    return {
        "data": {
            "id": scanner.id,
            "event_id": scanner.event_id,
            "name": scanner.name,
            "list_ids": scanner.list_ids,
            "token": scanner.token,
            "created_at": scanner.created_at.isoformat(),
        }
    }


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def scanner_public(scanner: Scanner) -> dict[str, Any]:
    return {
        "id": scanner.id,
        "event_id": scanner.event_id,
        "name": scanner.name,
        "list_ids": scanner.list_ids,
        "created_at": scanner.created_at.isoformat(),
        "created_by": scanner.created_by,
        "last_seen_at": _iso(scanner.last_seen_at),
        "last_synced_at": _iso(scanner.last_synced_at),
        "revoked": scanner.revoked,
        "revoked_at": _iso(scanner.revoked_at),
        "revoked_by": scanner.revoked_by,
    }


@router.get("/events/{event_id:uuid}/scanners", responses=declare(404))
async def list_scanners(event_id: UUID, principal: HostOrAdmin, repo: Scanners) -> dict[str, Any]:
    """The event's scanners, oldest first, revoked ones included (never their tokens)."""
    found = await devices.event_scanners(repo, event_id=str(event_id), actor=actor_of(principal))
    return {"data": [scanner_public(s) for s in found]}


@router.delete("/events/{event_id:uuid}/scanners/{scanner_id:uuid}", responses=declare(404))
async def revoke_event_scanner(
    event_id: UUID, scanner_id: UUID, principal: HostOrAdmin, repo: Scanners
) -> dict[str, Any]:
    """Revoke a scanner: its token gets 401 `invalid_token` from now on. Again: unchanged."""
    revoked = await devices.revoke_scanner(
        repo, event_id=str(event_id), scanner_id=str(scanner_id), actor=actor_of(principal)
    )
    return {"data": scanner_public(revoked)}


@router.get("/events/{event_id:uuid}/check-in-key", responses=declare(401, 404))
async def check_in_key(event_id: UUID, actor: DoorCaller, conn: DbConn) -> dict[str, Any]:
    """The event's public QR keys (Ed25519, raw 32 bytes base64url), newest first: a scanner
    verifies a QR's signature offline with the key its `key_id` names."""
    await gates.run_door_of(SqlGates(conn), str(event_id), actor)
    return {"data": await _keys(conn, str(event_id))}


@router.post("/events/{event_id:uuid}/check-in-key/rotate", responses=declare(403, 404))
async def rotate_check_in_key(
    event_id: UUID, principal: HostOrAdmin, repo: Scanners, conn: DbConn
) -> dict[str, Any]:
    """A new signing key; QRs signed before keep verifying with the older keys."""
    await devices.rotate_check_in_key(repo, event_id=str(event_id), actor=actor_of(principal))
    return {"data": await _keys(conn, str(event_id))}


async def _keys(conn: DbConn, event_id: str) -> dict[str, Any]:
    keys = await check_in_keys.event_keys(conn, event_id)
    return {
        "algorithm": "Ed25519",
        "keys": [
            {
                "key_id": k.key_id,
                "public_key": public_key_text(k.public_key),
                "signing": k.signing,
                "created_at": k.created_at.isoformat(),
            }
            for k in keys
        ],
    }


FEED_CURSOR = r"^[0-9]{1,19}-[0-9]{1,19}-[0-9a-f]{32}-[0-9]{1,19}$"
"""`<walk from xid>-<after xid>-<after id>-<resume xid>`: every match decodes."""
NO_ID = "0" * 32


def _cursor(walk_from: int, after: tuple[int, str] | None, resume: int) -> str:
    after_xid, after_id = (after[0], UUID(after[1]).hex) if after else (0, NO_ID)
    return f"{walk_from}-{after_xid}-{after_id}-{resume}"


def _read_cursor(cursor: str | None) -> tuple[int, tuple[int, str] | None, int | None]:
    if cursor is None:
        return 0, None, None
    walk_from, after_xid, after_id, resume = cursor.split("-")
    after = None if after_id == NO_ID else (int(after_xid), str(UUID(hex=after_id)))
    return int(walk_from), after, int(resume)


@router.get(
    "/events/{event_id:uuid}/check-in-lists/{list_id}/tickets", responses=declare(401, 404, 422)
)
async def list_tickets(
    event_id: UUID,
    list_id: ListId,
    actor: DoorCaller,
    conn: DbConn,
    since: Annotated[
        str | None, Query(pattern=FEED_CURSOR, description="`next_cursor` of the last sync.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> dict[str, Any]:
    """The list's tickets changed since the cursor (all of them without it), a page at a time.

    `next_cursor` always comes back: with `has_more` false, keep it for the next sync.
    `revoked` is true for a ticket that may no longer enter (cancelled, refused, expired); a
    ticket whose code changed comes back with its new code (refuse a QR with the old one).
    """
    found = {
        g.id: g
        for g in await gates.check_in_lists(SqlGates(conn), event_id=str(event_id), actor=actor)
    }
    gate = found.get(list_id)
    if gate is None:
        raise CheckInListNotFound(list_id)
    walk_from, after, resume = _read_cursor(since)
    types = sorted(gate.ticket_type_ids) if gate.ticket_type_ids is not None else None
    entries, xmin = await scanners.feed_page(
        conn,
        event_id=str(event_id),
        type_ids=types,
        from_xid=walk_from,
        after=after,
        limit=limit + 1,
    )
    resume = xmin if resume is None else resume
    has_more = len(entries) > limit
    page = entries[:limit]
    if has_more:
        next_cursor = _cursor(walk_from, (page[-1].door_xid, page[-1].id), resume)
    else:
        next_cursor = _cursor(resume, None, resume)
    return {
        "data": [
            {
                "id": e.id,
                "attendance_code": e.attendance_code,
                "ticket_type_id": e.ticket_type_id,
                "holder_name": e.holder_name,
                "status": e.status,
                "is_checked_in": e.is_checked_in,
                "checked_in_at": e.checked_in_at.isoformat() if e.checked_in_at else None,
                "is_inside": e.is_inside,
                "revoked": e.status != "active",
            }
            for e in page
        ],
        "next_cursor": next_cursor,
        "has_more": has_more,
    }


@router.post("/events/{event_id:uuid}/check-ins/sync", responses=declare(401, 404, 422))
async def sync_offline_scans(
    event_id: UUID, body: ScanBatch, actor: DoorCaller, conn: DbConn, request: Request
) -> dict[str, Any]:
    """Apply scans made offline, once each by nonce; answers in the batch's order."""
    runtime: Runtime = request.app.state.runtime
    await gates.run_door_of(SqlGates(conn), str(event_id), actor)
    scans = [
        OfflineScan(
            nonce=s.nonce,
            ticket_id=s.ticket_id,
            attendance_code=s.attendance_code,
            list_id=s.list_id,
            direction=Direction(s.direction),
            scanned_at=s.scanned_at,
        )
        for s in body.scans
    ]
    answers = await sync_scans(
        SqlOfflineDoor(conn, runtime.outbox), event_id=str(event_id), actor=actor, scans=scans
    )
    data = []
    for answer in answers:
        item: dict[str, Any] = {
            "nonce": answer.scan.nonce,
            "ticket_id": answer.recorded.ticket_id,
            "result": answer.recorded.result,
        }
        if answer.recorded.reason:
            item["reason"] = answer.recorded.reason
        if answer.recorded.flagged:
            item["flagged"] = True
        if answer.winner is not None:
            item["winning_scan"] = {
                "nonce": answer.winner.nonce,
                "scanned_at": answer.winner.scanned_at.isoformat(),
                "scanned_by": answer.winner.scanned_by,
            }
        data.append(item)
    return {"data": data}
