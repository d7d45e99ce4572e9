"""The door's background job: forget check-in nonces once no scanner can still be retrying."""

import logging
from datetime import timedelta

from servicekit.app import Runtime
from servicekit.jobs import PeriodicJob

from ticket_service.adapters.door_repository import forget_check_in_nonces

logger = logging.getLogger(__name__)

NONCE_RETENTION = timedelta(days=1)
"""A scanner retries within seconds; a day also covers a phone that was offline for the night."""
PURGE_INTERVAL_SECONDS = 600.0
PURGE_BATCH = 5000


def nonce_purger(runtime: Runtime) -> PeriodicJob:
    async def run() -> None:
        deleted = await forget_check_in_nonces(
            runtime.pool, older_than=NONCE_RETENTION, limit=PURGE_BATCH
        )
        if deleted:
            logger.info("forgot %d old check-in nonces", deleted)

    return PeriodicJob("purge-check-in-nonces", PURGE_INTERVAL_SECONDS, run)
