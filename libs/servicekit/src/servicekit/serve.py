"""Run a service's app with uvicorn (`python -m <service>`), with a graceful SIGTERM.

On the first SIGTERM (or Ctrl-C) the service drains instead of stopping at once: readiness
answers 503, the consumers take no new message and finish those in hand, and HTTP keeps
answering for `SHUTDOWN_DRAIN_SECONDS` (the time Kubernetes needs to take the pod out of its
Service). Then uvicorn closes the listener, waits up to `SHUTDOWN_GRACE_SECONDS` for the requests
in flight, and the lifespan stops the rest (see `servicekit.app`). A second signal stops at once.

`WEB_CONCURRENCY` > 1 forks that many worker processes after binding the port once: the kernel
spreads the connections over them (one shared listening socket), each runs its own event loop,
pools and consumers, and the parent passes SIGTERM/SIGINT on to all of them and waits. One
worker of a service (the one holding its advisory lock, see `servicekit.leader`) runs the
background jobs and the outbox relay; a worker that dies takes the others down with it, as a
crashed single process would, for the supervisor (devstack, Kubernetes) to see.
"""

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
from types import FrameType

import uvicorn
from fastapi import FastAPI

from servicekit import heap
from servicekit.leader import WORKER_GROUP_ENV
from servicekit.settings import ServiceSettings

logger = logging.getLogger(__name__)

SAME_SIGNAL_SECONDS = 0.5


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: FastAPI, drain_seconds: float) -> None:
        super().__init__(config)
        self._app = app
        self._drain_seconds = drain_seconds
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drain_task: asyncio.Task[None] | None = None
        self._signalled = False
        self._signalled_at = 0.0

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        frozen = heap.settle()  # the lifespan opened everything: that heap is for good
        logger.info("start-up heap frozen: %d objects", frozen)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        now = time.monotonic()
        if self._signalled and now - self._signalled_at < SAME_SIGNAL_SECONDS:
            # A worker gets the signal twice: from the process group's kill (or the terminal's
            # Ctrl-C) and from its parent passing it on. One stop, not a forced one.
            return
        if self._signalled or self._loop is None or not self.started:
            # A second signal, or one before start-up finished: uvicorn's own way.
            self.force_exit = self._signalled
            self.should_exit = True
            return
        self._signalled = True
        self._signalled_at = now
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
        loop="uvloop",
        http="httptools",
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
    )
    if settings.web_concurrency <= 1:
        DrainingServer(config, app, settings.shutdown_drain_seconds).run()
        return
    raise SystemExit(_serve_workers(config, app, settings))


def _serve_workers(config: uvicorn.Config, app: FastAPI, settings: ServiceSettings) -> int:
    """Fork `web_concurrency` workers on one bound socket; return the exit code for the parent."""
    sock = config.bind_socket()
    # The workers' leadership lock is theirs alone (servicekit.leader): host and parent pid.
    os.environ[WORKER_GROUP_ENV] = f"{socket.gethostname()}:{os.getpid()}"
    children: list[int] = []
    for _ in range(settings.web_concurrency):
        pid = os.fork()
        if pid == 0:  # the worker: its own loop, pools and consumers, opened by its lifespan
            code = 0
            try:
                DrainingServer(config, app, settings.shutdown_drain_seconds).run(sockets=[sock])
            except BaseException:
                logger.exception("worker %d failed", os.getpid())
                code = 1
            os._exit(code)
        children.append(pid)
    sock.close()
    logger.info("serving on %s:%d with %d workers", config.host, config.port, len(children))

    stopping = False

    def pass_on(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, pass_on)
    code = 0
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        children.remove(pid)
        exit_code = os.waitstatus_to_exitcode(status)
        if not stopping:
            logger.error("worker %d exited with %d; stopping the others", pid, exit_code)
            code = exit_code or 1
            pass_on(signal.SIGTERM, None)
    return code
