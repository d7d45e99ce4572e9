"""Background jobs: the sweeper that expires unpaid holds (and forgets old idempotency keys)."""

import time
from datetime import UTC, datetime, timedelta

import asyncpg
from servicekit.app import Runtime
from servicekit.jobs import PeriodicJob
from servicekit.messaging import Outbox

from ticket_service import bootstrap
from ticket_service.adapters.purchase_requests import forget_purchase_requests_before
from ticket_service.service_layer import holds
from ticket_service.settings import TicketSettings

KEY_CLEANUP_EVERY_SECONDS = 600.0


async def expire_unpaid_holds(
    pool: asyncpg.Pool,
    outbox: Outbox,
    *,
    batch_size: int = 200,
    now: datetime | None = None,
) -> int:
    """One batch of the sweep on the real database (the use case is `service_layer.holds`)."""
    store = bootstrap.holds_store(pool, outbox)
    return await holds.expire_unpaid_holds(store, batch_size=batch_size, now=now)


def hold_sweeper(settings: TicketSettings, runtime: Runtime) -> PeriodicJob:
    last_cleanup = 0.0
    store = bootstrap.holds_store(runtime.pool, runtime.outbox)

    async def run() -> int:
        """Expire what is due; the count is what servicekit's job metrics add up as items."""
        nonlocal last_cleanup
        expired = 0
        # Drain in batches so a backlog (after downtime) clears in one run.
        while True:
            batch = await holds.expire_unpaid_holds(
                store, batch_size=settings.hold_sweep_batch_size
            )
            expired += batch
            if batch < settings.hold_sweep_batch_size:
                break
        if time.monotonic() - last_cleanup > KEY_CLEANUP_EVERY_SECONDS:
            last_cleanup = time.monotonic()
            before = datetime.now(UTC) - timedelta(hours=settings.idempotency_key_hours)
            async with runtime.pool.acquire() as conn:
                await forget_purchase_requests_before(conn, before)
        return expired

    return PeriodicJob("expire-unpaid-holds", settings.hold_sweep_interval_seconds, run)
