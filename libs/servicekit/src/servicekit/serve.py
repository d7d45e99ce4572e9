"""Run a service's app with uvicorn (`python -m <service>`), with a graceful SIGTERM.

On the first SIGTERM (or Ctrl-C) the service drains instead of stopping at once: readiness
answers 503, the consumers take no new message and finish those in hand, and HTTP keeps
answering for `SHUTDOWN_DRAIN_SECONDS` (the time Kubernetes needs to take the pod out of its
Service). Then uvicorn closes the listener, waits up to `SHUTDOWN_GRACE_SECONDS` for the requests
in flight, and the lifespan stops the rest (see `servicekit.app`). A second signal stops at once.
"""

import asyncio
import logging
import signal
import socket
from types import FrameType

import uvicorn
from fastapi import FastAPI

from servicekit.settings import ServiceSettings

logger = logging.getLogger(__name__)


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: FastAPI, drain_seconds: float) -> None:
        super().__init__(config)
        self._app = app
        self._drain_seconds = drain_seconds
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drain_task: asyncio.Task[None] | None = None
        self._signalled = False

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._signalled or self._loop is None or not self.started:
            # A second signal, or one before start-up finished: uvicorn's own way.
            self.force_exit = self._signalled
            self.should_exit = True
            return
        self._signalled = True
        runtime = getattr(self._app.state, "runtime", None)
        if runtime is not None:
            runtime.draining = True  # readiness is 503 from this instant
        # A signal handler may not start coroutines itself; hand it to the event loop.
        self._loop.call_soon_threadsafe(self._start_draining, signal.Signals(sig).name)

    def _start_draining(self, signame: str) -> None:
        self._drain_task = asyncio.ensure_future(self._drain(signame))

    async def _drain(self, signame: str) -> None:
        logger.info("%s: draining for %.1f s before closing", signame, self._drain_seconds)
        runtime = getattr(self._app.state, "runtime", None)
        try:
            if runtime is not None:
                await runtime.drain()
            await asyncio.sleep(self._drain_seconds)
        finally:
            self.should_exit = True


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
    )
    DrainingServer(config, app, settings.shutdown_drain_seconds).run()
