"""Prometheus metrics every service shares, and the `/metrics` route that serves them.

Two kinds of figures:

- counted as work happens, in this process (prometheus-client's default registry): HTTP
  requests per route template, consumer messages per queue and outcome, outbox publishes,
  background job runs. Several replicas each count their own: aggregate with `sum by (...)`.
- read at scrape time, from the database or the broker (`ScrapeTime`): outbox backlog and the
  age of the oldest unsent event, queue depth (consumer lag) and dead-letter depth, and each
  service's own business figures (holds, refunds by state, deliveries...). Every replica reports
  the same shared value: aggregate with `max by (...)`, never `sum`.

Several worker processes per pod (not done today, one uvicorn worker per pod) would need
prometheus-client's multiprocess mode: set `PROMETHEUS_MULTIPROC_DIR` to an emptyDir, serve
`/metrics` from a fresh `CollectorRegistry` with `multiprocess.MultiProcessCollector`, give every
Gauge a `multiprocess_mode` (`livesum` for in-progress, `max` for the scrape-time ones) and call
`multiprocess.mark_process_dead(pid)` when a worker exits. The counters need no change.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import asyncpg
from aio_pika.abc import AbstractRobustConnection
from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from ticketing_contracts import QueueBinding

logger = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
UNMATCHED_ROUTE = "<unmatched>"
"""The route label of a request no route matched (404, 405, 413): raw paths would be unbounded."""

HTTP_REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests answered, by route template and status code.",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    ["service", "method", "route"],
    buckets=LATENCY_BUCKETS,
)
HTTP_IN_PROGRESS = Gauge(
    "http_requests_in_progress", "HTTP requests being answered now.", ["service"]
)

CONSUMER_MESSAGES = Counter(
    "consumer_messages_total",
    "Messages taken from a queue, by outcome: applied, duplicate (dropped by the inbox), "
    "ignored (no handler), retried, dead_lettered.",
    ["queue", "event_type", "outcome"],
)
CONSUMER_HANDLING = Histogram(
    "consumer_handling_seconds",
    "Time from taking a message to acking, nacking or dead-lettering it.",
    ["queue", "event_type"],
    buckets=LATENCY_BUCKETS,
)
CONSUMER_IN_PROGRESS = Gauge(
    "consumer_messages_in_progress", "Messages being handled now.", ["queue"]
)
QUEUE_DEPTH = Gauge(
    "consumer_queue_messages_ready",
    "Messages waiting in a consumer's queue, not yet delivered (consumer lag); read at scrape.",
    ["queue"],
)
DEAD_LETTER_DEPTH = Gauge(
    "consumer_dead_letter_messages",
    "Messages in a consumer's dead-letter queue; read at scrape time.",
    ["queue"],
)

OUTBOX_PUBLISHED = Counter(
    "outbox_published_total", "Outbox events published with a broker confirm."
)
OUTBOX_REFUSED = Counter(
    "outbox_publish_refused_total",
    "Outbox events the broker returned or refused (kept and retried).",
)
OUTBOX_RELAY_FAILURES = Counter(
    "outbox_relay_failures_total",
    "Relay passes rolled back by broker or database trouble.",
)
OUTBOX_BACKLOG = Gauge(
    "outbox_backlog_events", "Outbox events not yet published; read at scrape time.", ["service"]
)
OUTBOX_OLDEST_AGE = Gauge(
    "outbox_oldest_unsent_age_seconds",
    "Age of the oldest unpublished outbox event (0 when none); read at scrape time.",
    ["service"],
)

JOB_RUNS = Counter(
    "background_job_runs_total",
    "Runs of a background job, by outcome (ok, failed).",
    ["service", "job_name", "outcome"],
)
JOB_DURATION = Histogram(
    "background_job_duration_seconds",
    "Time one run of a background job took.",
    ["service", "job_name"],
    buckets=LATENCY_BUCKETS,
)
JOB_ITEMS = Counter(
    "background_job_items_total",
    "Items a background job worked on (what its run returned, when a count).",
    ["service", "job_name"],
)
SCRAPE_FAILURES = Counter(
    "metrics_scrape_refresh_failures_total",
    "Scrape-time figures that could not be read (the previous value is served).",
    ["service", "source"],
)


class MetricsMiddleware:
    """Counts and times every HTTP request under its route template (`/tickets/{ticket_id}`)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        # The labelled series, looked up once each: `labels()` checks and locks on every call.
        self._in_progress = HTTP_IN_PROGRESS.labels(service)
        self._counted: dict[tuple[str, str, int], Any] = {}
        self._timed: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/metrics":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self._in_progress.inc()
        try:
            await self.app(scope, receive, send_status)
        finally:
            self._in_progress.dec()
            route = _route_template(scope)
            method = scope["method"]
            counted = self._counted.get((method, route, status))
            if counted is None:
                counted = HTTP_REQUESTS.labels(self.service, method, route, str(status))
                self._counted[(method, route, status)] = counted
            counted.inc()
            timed = self._timed.get((method, route))
            if timed is None:
                timed = self._timed[(method, route)] = HTTP_LATENCY.labels(
                    self.service, method, route
                )
            timed.observe(time.perf_counter() - started)


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


ScrapeRefresh = Callable[[asyncpg.Connection], Awaitable[None]]
"""Reads figures from the service's database at scrape time and sets its gauges."""


@dataclass
class ScrapeTime:
    """What `/metrics` reads before it answers: the outbox, the queues, the service's own."""

    service: str
    pool: asyncpg.Pool
    amqp: AbstractRobustConnection
    queues: Sequence[QueueBinding] = ()
    refreshes: Sequence[ScrapeRefresh] = ()
    timeout_seconds: float = 3.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def render(self) -> bytes:
        # One scrape at a time: a refresh clears and sets label sets, a reader must not see half.
        async with self._lock:
            await asyncio.gather(self._database(), self._queues())
            return generate_latest(REGISTRY)

    async def _database(self) -> None:
        try:
            async with asyncio.timeout(self.timeout_seconds):
                async with self.pool.acquire() as conn:
                    await refresh_outbox(conn, self.service)
                    for refresh in self.refreshes:
                        await refresh(conn)
        except Exception:
            logger.warning("scrape-time figures from the database failed", exc_info=True)
            SCRAPE_FAILURES.labels(self.service, "database").inc()

    async def _queues(self) -> None:
        if not self.queues:
            return
        try:
            async with asyncio.timeout(self.timeout_seconds):
                async with self.amqp.channel() as channel:
                    for binding in self.queues:
                        queue = await channel.declare_queue(binding.queue, passive=True)
                        dlq = await channel.declare_queue(binding.dead_letter_queue, passive=True)
                        QUEUE_DEPTH.labels(binding.queue).set(_ready(queue))
                        DEAD_LETTER_DEPTH.labels(binding.queue).set(_ready(dlq))
        except Exception:
            logger.warning("scrape-time queue depths failed", exc_info=True)
            SCRAPE_FAILURES.labels(self.service, "broker").inc()


def _ready(queue: object) -> int:
    result = getattr(queue, "declaration_result", None)
    return int(getattr(result, "message_count", 0) or 0)


async def refresh_outbox(conn: asyncpg.Connection, service: str) -> None:
    row = await conn.fetchrow(
        """SELECT count(*) AS backlog,
                  coalesce(extract(epoch FROM now() - min(created_at)), 0) AS oldest
           FROM outbox WHERE sent_at IS NULL"""
    )
    assert row is not None
    OUTBOX_BACKLOG.labels(service).set(row["backlog"])
    OUTBOX_OLDEST_AGE.labels(service).set(float(row["oldest"]))


def set_counts(
    gauge: Gauge,
    rows: Iterable[Mapping[str, object]],
    labels: Sequence[str],
    *,
    known: Iterable[Sequence[str]] = (),
    value: str = "count",
) -> None:
    """Replace every label set of `gauge` with the rows' counts; `known` label sets default to 0.

    A state that emptied since the last scrape then reads 0 instead of its stale count.
    """
    gauge.clear()
    for label_values in known:
        gauge.labels(*label_values).set(0)
    for row in rows:
        gauge.labels(*(str(row[name]) for name in labels)).set(float(str(row[value])))


class ScrapeRenderer(Protocol):
    async def render(self) -> bytes: ...


def metrics_router() -> APIRouter:
    """`GET /metrics`: the exposition, after `app.state.scrape_time` (a ScrapeRenderer) ran."""
    router = APIRouter(tags=["operations"], include_in_schema=False)

    @router.get("/metrics")
    async def metrics(request: Request) -> Response:
        scrape: ScrapeRenderer | None = getattr(request.app.state, "scrape_time", None)
        body = await scrape.render() if scrape is not None else generate_latest(REGISTRY)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router
