"""Background jobs that run every few seconds for the life of the service.

A job must be safe with several replicas running it at once (claim work with
FOR UPDATE SKIP LOCKED or a conditional UPDATE); a failure is logged and the job runs again.
Each run is counted and timed (`background_job_runs_total`, `background_job_duration_seconds`);
a run that returns a count adds it to `background_job_items_total`.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from servicekit.leader import Leadership
from servicekit.metrics import JOB_DURATION, JOB_ITEMS, JOB_RUNS

logger = logging.getLogger(__name__)

STANDBY_SECONDS = 1.0


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    interval_seconds: float
    run: Callable[[], Awaitable[object]]
    single_flight: bool = True
    """Run by the leading worker only; False for work each worker owns (its own clients)."""


async def run_forever(
    job: PeriodicJob,
    *,
    service: str = "service",
    stopping: asyncio.Event | None = None,
    leadership: Leadership | None = None,
) -> None:
    """Run `job` every interval until cancelled, or until `stopping` is set between two runs.

    With `leadership`, only while this worker leads its service (the others skip their turn).
    """
    stopping = stopping or asyncio.Event()
    while not stopping.is_set():
        pause = job.interval_seconds
        if not job.single_flight or leadership is None or await leadership.is_leader():
            await run_once(job, service=service)
        else:
            pause = max(pause, STANDBY_SECONDS)  # a stand-by worker asks again now and then
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=pause)


async def run_once(job: PeriodicJob, *, service: str = "service") -> None:
    started = time.perf_counter()
    outcome = "ok"
    try:
        result = await job.run()
    except asyncio.CancelledError:
        raise
    except Exception:
        outcome = "failed"
        logger.exception("background job %s failed; it runs again next interval", job.name)
    else:
        if isinstance(result, int) and not isinstance(result, bool) and result > 0:
            JOB_ITEMS.labels(service, job.name).inc(result)
    JOB_RUNS.labels(service, job.name, outcome).inc()
    JOB_DURATION.labels(service, job.name).observe(time.perf_counter() - started)
