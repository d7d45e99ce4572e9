"""The door's background job: forget check-in nonces once no scanner can still be retrying."""

import logging
from datetime import timedelta

from servicekit.app import Runtime
from servicekit.jobs import PeriodicJob

logger = logging.getLogger(__name__)

NONCE_RETENTION = timedelta(days=1)
"""A scanner retries within seconds; a day also covers a phone that was offline for the night."""
PURGE_INTERVAL_SECONDS = 600.0
PURGE_BATCH = 5000


def nonce_purger(runtime: Runtime) -> PeriodicJob:
    async def run() -> None:
        # Plain deletes in batches: replicas running it at once only share the work.
        async with runtime.pool.acquire() as conn:
            status = await conn.execute(
                """DELETE FROM check_in_nonces WHERE ctid IN (
                       SELECT ctid FROM check_in_nonces WHERE created_at < now() - $1::interval
                        LIMIT $2)""",
                NONCE_RETENTION,
                PURGE_BATCH,
            )
        deleted = int(status.split()[-1])
        if deleted:
            logger.info("forgot %d old check-in nonces", deleted)

    return PeriodicJob("purge-check-in-nonces", PURGE_INTERVAL_SECONDS, run)
