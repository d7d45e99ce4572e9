"""Background jobs: the sweeper that expires unpaid holds."""

from servicekit.app import Runtime
from servicekit.jobs import PeriodicJob

from ticket_service.service_layer.holds import expire_unpaid_holds
from ticket_service.settings import TicketSettings


def hold_sweeper(settings: TicketSettings, runtime: Runtime) -> PeriodicJob:
    async def run() -> None:
        # Drain in batches so a backlog (after downtime) clears in one run.
        while (
            await expire_unpaid_holds(
                runtime.pool, runtime.outbox, batch_size=settings.hold_sweep_batch_size
            )
            == settings.hold_sweep_batch_size
        ):
            pass

    return PeriodicJob("expire-unpaid-holds", settings.hold_sweep_interval_seconds, run)
