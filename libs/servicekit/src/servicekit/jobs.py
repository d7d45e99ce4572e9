"""Background jobs that run every few seconds for the life of the service.

A job must be safe with several replicas running it at once (claim work with
FOR UPDATE SKIP LOCKED or a conditional UPDATE); a failure is logged and the job runs again.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    interval_seconds: float
    run: Callable[[], Awaitable[object]]


async def run_forever(job: PeriodicJob) -> None:
    while True:
        try:
            await job.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("background job %s failed; it runs again next interval", job.name)
        await asyncio.sleep(job.interval_seconds)
