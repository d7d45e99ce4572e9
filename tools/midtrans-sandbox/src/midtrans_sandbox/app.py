"""Composition root: builds the sandbox and its HTTP app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from midtrans_sandbox import __version__, control, core_api, dashboard, pages, receiver, snap
from midtrans_sandbox.clock import Clock
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
    app.state.settings = settings
    app.include_router(snap.router)
    app.include_router(core_api.router)
    app.include_router(control.router)
    app.include_router(pages.router)
    app.include_router(receiver.router)
    app.include_router(dashboard.router)
    return app
