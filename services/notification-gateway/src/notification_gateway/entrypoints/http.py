"""HTTP: the caller's notifications, the live stream (SSE), device tokens and language."""

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from servicekit.auth import CurrentUser
from servicekit.contract import declare
from servicekit.db import DbConn
from servicekit.errors import Conflict, NotFound

from notification_gateway.adapters import repository
from notification_gateway.adapters.stream import (
    NotificationStream,
    StreamEntry,
    id_order,
)
from notification_gateway.service_layer.fanout import StreamHub
from notification_gateway.settings import NotificationSettings

router = APIRouter(prefix="/notifications", tags=["notifications"])
# One event of the stream (`_sse`): `data` is the notification as JSON text.
SERVER_SENT_EVENT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": r"^[0-9]+-[0-9]+$"},
        "event": {"type": "string"},
        "data": {"type": "string", "contentMediaType": "application/json"},
        "retry": {"type": "integer"},
    },
}
# The stream's ids, `<ms>-<seq>`; 19 digits each so every match fits Redis' 64-bit parts.
LAST_EVENT_ID = r"^[0-9]{1,19}(-[0-9]{1,19})?$"


class DeviceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=8, max_length=4096, pattern=r"^[A-Za-z0-9_:\-.]+$")
    platform: Literal["android", "ios", "web"] = "android"


class PreferencesUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: Literal["id", "en"]


@router.get("")
@router.get("/", include_in_schema=False)  # the gateway routes /notifications/ (with the slash)
async def list_notifications(
    user: CurrentUser,
    conn: DbConn,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    # 18 digits: every match fits PostgreSQL's bigint.
    cursor: Annotated[str | None, Query(pattern=r"^[0-9]{1,18}$")] = None,
) -> dict[str, Any]:
    rows = await repository.recent_notifications(
        conn, user_id=user.user_id, limit=limit, before_id=int(cursor) if cursor else None
    )
    next_cursor = str(rows[-1].id) if len(rows) == limit else None
    return {"data": [row.public() for row in rows], "next_cursor": next_cursor}


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {"schema": SERVER_SENT_EVENT}}}},
)
async def notification_stream(
    request: Request,
    user: CurrentUser,
    last_event_id: Annotated[
        str | None, Header(alias="Last-Event-ID", pattern=LAST_EVENT_ID)
    ] = None,
    last_event_id_query: Annotated[
        str | None, Query(alias="last_event_id", pattern=LAST_EVENT_ID)
    ] = None,
) -> StreamingResponse:
    """Server-sent events of the caller's notifications; resume with `Last-Event-ID`."""
    resume = last_event_id or last_event_id_query  # the pattern admits only stream ids
    settings: NotificationSettings = request.app.state.runtime.settings
    return StreamingResponse(
        _server_sent_events(
            request.app.state.stream, request.app.state.hub, user.user_id, resume, settings
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"},
    )


async def _server_sent_events(
    stream: NotificationStream,
    hub: StreamHub,
    user_id: str,
    resume_after: str | None,
    settings: NotificationSettings,
) -> AsyncIterator[str]:
    async with hub.subscribe(user_id) as subscription:
        # Subscribed first, then read what came before: nothing falls between the two, and
        # what both deliver is sent once (ids only grow).
        last = resume_after or await stream.last_id(user_id)
        yield f"retry: {settings.stream_retry_ms}\n: connected\n\n"
        while resume_after is not None:
            missed = await stream.read_after(user_id, last)
            for entry in missed:
                last = entry.id
                yield _sse(entry)
            if len(missed) < 100:
                break
        while not subscription.lagged:
            try:
                entry = await asyncio.wait_for(
                    subscription.entries.get(), timeout=settings.stream_heartbeat_seconds
                )
            except TimeoutError:
                yield ": keep-alive\n\n"  # a comment: keeps proxies and the client's timer happy
                continue
            if id_order(entry.id) <= id_order(last):
                continue
            last = entry.id
            yield _sse(entry)
        # Too far behind: end the response; the client reconnects with Last-Event-ID.


def _sse(entry: StreamEntry) -> str:
    return f"id: {entry.id}\nevent: {entry.event}\ndata: {entry.data}\n\n"


@router.post(
    "/devices",
    status_code=201,
    responses=declare(409, s409="The token is registered to another user."),
)
async def register_device(body: DeviceCreate, user: CurrentUser, conn: DbConn) -> dict[str, Any]:
    """Registers (or refreshes) one of the caller's devices; another user's token is refused.

    A phone that changes hands unregisters on sign-out (`DELETE /notifications/devices/...`)
    first; pushes never go to whoever claims a token last.
    """
    device = await repository.register_device(
        conn, user_id=user.user_id, token=body.token, platform=body.platform
    )
    if device is None:
        raise Conflict("This device token belongs to another user.", code="device_token_taken")
    return {"data": _device(device)}


@router.get("/devices")
async def list_devices(user: CurrentUser, conn: DbConn) -> dict[str, Any]:
    devices = await repository.devices_of(conn, user.user_id)
    return {"data": [_device(d) for d in devices], "next_cursor": None}


@router.delete("/devices/{token}", status_code=204)
async def remove_device(token: str, user: CurrentUser, conn: DbConn) -> Response:
    if not await repository.remove_device(conn, user_id=user.user_id, token=token):
        raise NotFound("You have no device with this token.", code="device_not_found")
    return Response(status_code=204)


@router.get("/preferences")
async def get_preferences(request: Request, user: CurrentUser, conn: DbConn) -> dict[str, Any]:
    settings: NotificationSettings = request.app.state.runtime.settings
    language = await repository.language_of(conn, user.user_id) or settings.default_language
    return {"data": {"language": language}}


@router.put("/preferences")
async def put_preferences(
    body: PreferencesUpdate, user: CurrentUser, conn: DbConn
) -> dict[str, Any]:
    await repository.set_language(conn, user_id=user.user_id, language=body.language)
    return {"data": {"language": body.language}}


def _device(device: dict[str, Any]) -> dict[str, Any]:
    return {
        "token": device["token"],
        "platform": device["platform"],
        "created_at": device["created_at"].isoformat(),
        "updated_at": device["updated_at"].isoformat(),
    }
