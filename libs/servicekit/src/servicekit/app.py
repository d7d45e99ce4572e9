"""The service runtime: what a service's lifespan opens, starts and closes, in order.

`build_app` is each service's composition root's one call. At start-up it opens the asyncpg
pool, applies migrations under an advisory lock, connects Redis and RabbitMQ (robust,
reconnecting), declares the topology, runs the service's own `setup` (its clients, consumers and
jobs), then starts the outbox relay, the consumers and the jobs. Shutdown goes in reverse.

Draining (SIGTERM, see `servicekit.serve`): readiness answers 503 so the load balancer stops
sending, the consumers take no new message and finish the ones in hand, HTTP keeps answering
for the drain delay; then uvicorn finishes the requests in flight and the lifespan stops the
consumers, lets the jobs finish their run and the relay publish what is left, and closes.
"""

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aio_pika
import asyncpg
import redis.asyncio as aioredis
from aio_pika.abc import AbstractRobustConnection
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from servicekit.auth import TokenVerifier
from servicekit.contract import install_contract
from servicekit.db import open_pool
from servicekit.draining import CloseConnectionsWhenDraining
from servicekit.errors import DomainErrorMap, error_body, install_error_handlers
from servicekit.http import RequestContextMiddleware
from servicekit.jobs import PeriodicJob, run_forever
from servicekit.leader import WORKER_GROUP_ENV, Leadership
from servicekit.logs import configure_logging, register_secret
from servicekit.messaging import Consumer, InboxConsumer, Outbox, OutboxRelay, declare_topology
from servicekit.metrics import MetricsMiddleware, ScrapeRefresh, ScrapeTime, metrics_router
from servicekit.migrations import MigrationsMissing, apply_migrations, missing_migrations
from servicekit.service_tokens import ServiceTokenVerifier
from servicekit.settings import ServiceSettings

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class ServiceParts:
    """What a service's `setup` hands back for the runtime to run."""

    consumers: Sequence[Consumer] = ()
    jobs: Sequence[PeriodicJob] = ()
    metrics: Sequence[ScrapeRefresh] = ()
    """The service's own scrape-time figures (`servicekit.metrics.ScrapeRefresh`)."""


@dataclass
class Runtime:
    """The live resources of one service process; `app.state.runtime`."""

    settings: ServiceSettings
    pool: asyncpg.Pool
    amqp: AbstractRobustConnection
    redis: aioredis.Redis
    token_verifier: TokenVerifier
    outbox: Outbox
    service_token_verifier: ServiceTokenVerifier
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    consumers: list[InboxConsumer] = field(default_factory=list)
    draining: bool = False

    async def drain(self) -> None:
        """Stop being ready and stop taking messages; the ones in hand are finished first."""
        self.draining = True
        grace = self.settings.shutdown_grace_seconds
        await asyncio.gather(*(consumer.stop_consuming(grace) for consumer in self.consumers))


ServiceSetup = Callable[[FastAPI, Runtime], AbstractAsyncContextManager[ServiceParts]]


def build_app(
    settings: ServiceSettings,
    *,
    title: str,
    routers: Sequence[APIRouter] = (),
    migrations: Path | None = None,
    setup: ServiceSetup | None = None,
    domain_errors: DomainErrorMap | None = None,
    max_body_bytes: int = 65_536,
) -> FastAPI:
    configure_logging(settings.service_name, settings.log_level)
    for secret in (
        settings.jwt_secret,
        settings.service_token_secret,
        settings.database_url,
        settings.amqp_url,
        settings.redis_url,
    ):
        register_secret(secret.get_secret_value())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            runtime = await _open_runtime(settings, migrations, stack)
            app.state.runtime = runtime
            parts = ServiceParts()
            if setup is not None:
                parts = await stack.enter_async_context(setup(app, runtime))
            await _start_workers(runtime, parts, stack)
            app.state.scrape_time = ScrapeTime(
                service=settings.service_name,
                pool=runtime.pool,
                amqp=runtime.amqp,
                queues=[consumer.binding for consumer in parts.consumers],
                refreshes=parts.metrics,
            )
            logger.info("%s started", settings.service_name)
            yield
            logger.info("%s stopping", settings.service_name)

    app = FastAPI(title=title, lifespan=lifespan)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=max_body_bytes)
    app.add_middleware(MetricsMiddleware, service=settings.service_name)
    app.add_middleware(CloseConnectionsWhenDraining)
    install_error_handlers(app, domain_errors)
    app.include_router(health_router())
    app.include_router(metrics_router())
    for router in routers:
        app.include_router(router)
    install_contract(app)
    return app


async def _open_runtime(
    settings: ServiceSettings, migrations: Path | None, stack: AsyncExitStack
) -> Runtime:
    pool = await _retry_connect(
        "PostgreSQL",
        lambda: open_pool(
            settings.database_url.get_secret_value(),
            min_size=settings.database_pool_min,
            max_size=settings.database_pool_max,
        ),
    )
    stack.push_async_callback(pool.close)
    folders = [migrations] if migrations else []
    if settings.migrate_on_start:
        await apply_migrations(pool, *folders)
    elif missing := await missing_migrations(pool, *folders):
        raise MigrationsMissing(
            f"MIGRATE_ON_START is off and the database lacks {', '.join(missing)}: "
            "run the migration Job (python -m servicekit.migrate <package>) first"
        )

    # Blocking pool: a burst beyond max_connections waits for a free connection instead of
    # failing with "Too many connections" (the default pool raises at once).
    redis_pool: aioredis.BlockingConnectionPool = aioredis.BlockingConnectionPool.from_url(
        settings.redis_url.get_secret_value(), decode_responses=True, max_connections=100, timeout=5
    )
    stack.push_async_callback(redis_pool.disconnect)
    redis = aioredis.Redis(connection_pool=redis_pool)
    stack.push_async_callback(redis.aclose)

    amqp = await _retry_connect(
        "RabbitMQ",
        lambda: aio_pika.connect_robust(settings.amqp_url.get_secret_value(), reconnect_interval=1),
    )
    stack.push_async_callback(amqp.close)
    async with amqp.channel() as channel:
        await declare_topology(channel)

    return Runtime(
        settings=settings,
        pool=pool,
        amqp=amqp,
        redis=redis,
        token_verifier=TokenVerifier(settings),
        outbox=Outbox(producer=settings.service_name),
        service_token_verifier=ServiceTokenVerifier(settings),
    )


async def _start_workers(runtime: Runtime, parts: ServiceParts, stack: AsyncExitStack) -> None:
    settings = runtime.settings
    dsn = settings.database_url.get_secret_value()
    # One worker of a multi-worker process runs the background work; the others stand by
    # (servicekit.leader). Replicas are not bound together: each runs its own, as before.
    group = os.environ.get(WORKER_GROUP_ENV)
    leadership = Leadership(dsn, f"{settings.service_name}.background.{group}") if group else None
    if leadership is not None:
        stack.push_async_callback(leadership.aclose)
    relay = OutboxRelay(
        runtime.pool,
        runtime.amqp,
        batch_size=settings.outbox_batch_size,
        poll_seconds=settings.outbox_poll_seconds,
        listen_dsn=dsn,
        leadership=leadership,
    )
    jobs_stopping = asyncio.Event()
    relay_task = asyncio.create_task(relay.run())
    job_tasks = [
        asyncio.create_task(
            run_forever(
                job, service=settings.service_name, stopping=jobs_stopping, leadership=leadership
            )
        )
        for job in parts.jobs
    ]
    runtime.tasks = [relay_task, *job_tasks]

    async def stop_tasks() -> None:
        # Jobs finish the run they are in (a Midtrans call and its record stay together).
        jobs_stopping.set()
        late: set[asyncio.Task[None]] = set()
        if job_tasks:
            _, late = await asyncio.wait(job_tasks, timeout=settings.shutdown_grace_seconds)
        relay_task.cancel()
        for task in late:
            task.cancel()
        await asyncio.gather(*runtime.tasks, return_exceptions=True)
        await _publish_what_is_left(relay, settings.shutdown_grace_seconds)

    stack.push_async_callback(stop_tasks)
    for consumer in parts.consumers:
        inbox = InboxConsumer(
            consumer,
            runtime.pool,
            runtime.amqp,
            prefetch=settings.consumer_prefetch,
            max_attempts=settings.consumer_max_attempts,
        )
        await inbox.start()
        runtime.consumers.append(inbox)
        stack.push_async_callback(inbox.stop)


async def _publish_what_is_left(relay: OutboxRelay, seconds: float) -> None:
    """A last relay pass at shutdown, so events of the final requests do not wait for a peer."""
    try:
        async with asyncio.timeout(seconds):
            while await relay.relay_once() > 0:
                pass
    except Exception:
        logger.warning("outbox not flushed at shutdown; a peer will publish it", exc_info=True)


async def _retry_connect(what: str, connect: Callable[[], Awaitable[T]], attempts: int = 15) -> T:
    """Dependencies may restart with us; wait for them a while instead of crash-looping."""
    for attempt in range(1, attempts + 1):
        try:
            return await connect()
        except (OSError, asyncpg.PostgresError, aio_pika.exceptions.AMQPError) as exc:
            if attempt == attempts:
                raise
            logger.warning("%s not reachable (%s); retry %d/%d", what, exc, attempt, attempts)
            await asyncio.sleep(min(0.5 * attempt, 3.0))
    raise AssertionError("unreachable")


def health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def alive() -> dict[str, str]:
        return {"status": "alive"}

    @router.get("/readyz")
    async def ready(request: Request) -> Any:
        runtime: Runtime | None = getattr(request.app.state, "runtime", None)
        return await readiness(runtime)

    return router


async def readiness(runtime: Runtime | None) -> JSONResponse:
    checks: dict[str, str] = {}
    if runtime is None:
        return JSONResponse(error_body("not_ready", "starting"), status_code=503)
    if runtime.draining:
        return JSONResponse(error_body("draining", "shutting down"), status_code=503)
    try:
        async with runtime.pool.acquire(timeout=2) as conn:
            await conn.fetchval("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"down: {type(exc).__name__}"
    checks["broker"] = (
        "ok" if not runtime.amqp.is_closed and runtime.amqp.connected.is_set() else "down"
    )
    try:
        await asyncio.wait_for(runtime.redis.ping(), timeout=2)
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"down: {type(exc).__name__}"
    if all(v == "ok" for v in checks.values()):
        return JSONResponse({"status": "ready", "checks": checks})
    body = error_body("not_ready", "A dependency is down.", {"checks": checks})
    return JSONResponse(body, status_code=503)
