"""Composition root: builds the sandbox and its HTTP app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from midtrans_sandbox import __version__, control, core_api, dashboard, pages, receiver, snap
from midtrans_sandbox.clock import Clock
from midtrans_sandbox.metrics import install_metrics
from midtrans_sandbox.notifications import Notifier
from midtrans_sandbox.service import Sandbox
from midtrans_sandbox.settings import Settings

log = logging.getLogger(__name__)


async def expire_overdue_transactions(sandbox: Sandbox) -> None:
    """Expire pending transactions as their expiry_time passes, so the notification goes out."""
    while True:
        await asyncio.sleep(sandbox.settings.sweep_interval)
        try:
            sandbox.expire_due()
        except Exception:
            log.exception("expiring overdue transactions failed")


HTTP_ERROR_MESSAGES = {
    404: "The requested resource is not found",
    405: "HTTP method is not allowed",
}


async def midtrans_shaped_http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and wrong methods under /v2 and /snap answer in Midtrans' error shapes."""
    assert isinstance(exc, StarletteHTTPException)
    path = request.url.path
    message = HTTP_ERROR_MESSAGES.get(exc.status_code, str(exc.detail))
    headers = getattr(exc, "headers", None)
    if path.startswith("/v2/"):
        body: dict[str, object] = {"status_code": str(exc.status_code), "status_message": message}
        return JSONResponse(body, status_code=exc.status_code, headers=headers)
    if path.startswith("/snap/v1/"):
        return JSONResponse(
            {"error_messages": [message]}, status_code=exc.status_code, headers=headers
        )
    return await http_exception_handler(request, exc)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    sandbox = Sandbox(settings, Clock(), Notifier(settings))

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        sweeper = asyncio.create_task(expire_overdue_transactions(sandbox))
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await sandbox.notifier.aclose()

    app = FastAPI(
        title="Midtrans sandbox",
        version=__version__,
        description="A local stand-in for Midtrans Snap, Core API and HTTP notifications.",
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox
    app.add_exception_handler(StarletteHTTPException, midtrans_shaped_http_error)
    app.state.settings = settings
    app.include_router(snap.router)
    app.include_router(core_api.router)
    app.include_router(control.router)
    app.include_router(pages.router)
    app.include_router(receiver.router)
    app.include_router(dashboard.router)
    install_metrics(app, sandbox)
    return app
