"""Background jobs: the sweeper that expires unpaid holds."""

from servicekit.app import Runtime
from servicekit.jobs import PeriodicJob

from ticket_service.settings import TicketSettings


def hold_sweeper(settings: TicketSettings, runtime: Runtime) -> PeriodicJob:
    async def run() -> None:
        return None

    return PeriodicJob("expire-unpaid-holds", settings.hold_sweep_interval_seconds, run)
