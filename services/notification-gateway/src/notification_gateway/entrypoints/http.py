"""HTTP: the caller's notifications, the live stream (SSE), device tokens and language."""

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from servicekit.auth import CurrentUser
from servicekit.contract import declare
from servicekit.db import DbConn

from notification_gateway.adapters.repository import SqlAccounts
from notification_gateway.domain.notifications import Device, Platform
from notification_gateway.domain.stream import StreamEntry
from notification_gateway.service_layer import accounts
from notification_gateway.service_layer.live_stream import StreamSignal, follow_stream
from notification_gateway.settings import NotificationSettings


async def _accounts(conn: DbConn) -> SqlAccounts:
    return SqlAccounts(conn)


Accounts = Annotated[SqlAccounts, Depends(_accounts)]
"""The caller's notifications, devices and language on this request's connection."""

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
    store: Accounts,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    # 18 digits: every match fits PostgreSQL's bigint.
    cursor: Annotated[str | None, Query(pattern=r"^[0-9]{1,18}$")] = None,
) -> dict[str, Any]:
    page = await accounts.notifications_page(
        store, user_id=user.user_id, limit=limit, cursor=cursor
    )
    return {"data": [n.public() for n in page.notifications], "next_cursor": page.next_cursor}


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
        _server_sent_events(request, user.user_id, resume, settings),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"},
    )


async def _server_sent_events(
    request: Request, user_id: str, resume_after: str | None, settings: NotificationSettings
) -> AsyncIterator[str]:
    entries = follow_stream(
        request.app.state.stream,
        request.app.state.hub,
        user_id=user_id,
        resume_after=resume_after,
        heartbeat_seconds=settings.stream_heartbeat_seconds,
    )
    # aclosing: a client that goes away unsubscribes now, not when the generator is collected.
    async with aclosing(entries):
        async for entry in entries:
            match entry:
                case StreamSignal.CONNECTED:
                    yield f"retry: {settings.stream_retry_ms}\n: connected\n\n"
                case StreamSignal.KEEP_ALIVE:
                    # A comment: keeps proxies and the client's timer happy.
                    yield ": keep-alive\n\n"
                case StreamEntry():
                    yield _sse(entry)


def _sse(entry: StreamEntry) -> str:
    return f"id: {entry.id}\nevent: {entry.event}\ndata: {entry.data}\n\n"


@router.post(
    "/devices",
    status_code=201,
    responses=declare(409, s409="The token is registered to another user."),
)
async def register_device(body: DeviceCreate, user: CurrentUser, store: Accounts) -> dict[str, Any]:
    """Registers (or refreshes) one of the caller's devices; another user's token is refused.

    A phone that changes hands unregisters on sign-out (`DELETE /notifications/devices/...`)
    first; pushes never go to whoever claims a token last.
    """
    device = await accounts.register_device(
        store, user_id=user.user_id, token=body.token, platform=Platform(body.platform)
    )
    return {"data": _device(device)}


@router.get("/devices")
async def list_devices(user: CurrentUser, store: Accounts) -> dict[str, Any]:
    devices = await store.devices_of(user.user_id)
    return {"data": [_device(d) for d in devices], "next_cursor": None}


@router.delete("/devices/{token}", status_code=204)
async def remove_device(token: str, user: CurrentUser, store: Accounts) -> Response:
    await accounts.remove_device(store, user_id=user.user_id, token=token)
    return Response(status_code=204)


@router.get("/preferences")
async def get_preferences(request: Request, user: CurrentUser, store: Accounts) -> dict[str, Any]:
    settings: NotificationSettings = request.app.state.runtime.settings
    language = await accounts.language_of(
        store, user_id=user.user_id, default_language=settings.default_language
    )
    return {"data": {"language": language}}


@router.put("/preferences")
async def put_preferences(
    body: PreferencesUpdate, user: CurrentUser, store: Accounts
) -> dict[str, Any]:
    await store.set_language(user_id=user.user_id, language=body.language)
    return {"data": {"language": body.language}}


def _device(device: Device) -> dict[str, str]:
    return {
        "token": device.token,
        "platform": device.platform.value,
        "created_at": device.created_at.isoformat(),
        "updated_at": device.updated_at.isoformat(),
    }
