"""ticket-service's own Prometheus figures, read from its database at scrape time: seat holds.

The sweeper's runs and the holds it expired are counted by servicekit's job metrics
(`background_job_runs_total` / `background_job_items_total{job_name="expire-unpaid-holds"}`).
"""

import asyncpg
from prometheus_client import Gauge

HOLDS = Gauge(
    "ticket_holds",
    "Seats held for an unpaid ticket (status pending); `overdue` ones wait for the sweeper.",
    ["state"],
)


async def refresh_holds(conn: asyncpg.Connection) -> None:
    # Both counts use the partial index tickets_holds_to_expire (status = 'pending').
    row = await conn.fetchrow(
        """SELECT count(*) AS held, count(*) FILTER (WHERE hold_expires_at <= now()) AS overdue
           FROM tickets WHERE status = 'pending'"""
    )
    assert row is not None
    HOLDS.labels("held").set(row["held"])
    HOLDS.labels("overdue").set(row["overdue"])
