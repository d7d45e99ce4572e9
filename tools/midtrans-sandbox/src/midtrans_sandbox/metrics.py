"""The sandbox's `/metrics`: HTTP per route (servicekit's middleware) and its own state.

Transactions by status and notification attempts by outcome are read from the in-memory store
at scrape time, so tests and benchmarks can see what the sandbox was asked to do.
"""

from collections import Counter as Tally

from fastapi import FastAPI
from prometheus_client import REGISTRY, Gauge
from prometheus_client.exposition import generate_latest
from servicekit.metrics import MetricsMiddleware, metrics_router, set_counts

from midtrans_sandbox.service import Sandbox
from midtrans_sandbox.state import Status

TRANSACTIONS = Gauge("midtrans_sandbox_transactions", "Sandbox transactions by status.", ["status"])
NOTIFICATION_ATTEMPTS = Gauge(
    "midtrans_sandbox_notification_attempts",
    "HTTP notifications the sandbox sent, by outcome (delivered: 2xx; failed: anything else).",
    ["outcome"],
)


class SandboxFigures:
    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox

    async def render(self) -> bytes:
        statuses = Tally(str(tx.status) for tx in self._sandbox.store.transactions.values())
        set_counts(
            TRANSACTIONS,
            [{"status": s, "count": n} for s, n in statuses.items()],
            ["status"],
            known=[(str(s),) for s in Status],
        )
        outcomes = Tally(
            "delivered" if a.status is not None and 200 <= a.status < 300 else "failed"
            for a in self._sandbox.notifier.attempts
            if a.status is not None or a.error is not None
        )
        set_counts(
            NOTIFICATION_ATTEMPTS,
            [{"outcome": o, "count": n} for o, n in outcomes.items()],
            ["outcome"],
            known=[("delivered",), ("failed",)],
        )
        return generate_latest(REGISTRY)


def install_metrics(app: FastAPI, sandbox: Sandbox) -> None:
    app.add_middleware(MetricsMiddleware, service="midtrans-sandbox")
    app.state.scrape_time = SandboxFigures(sandbox)
    app.include_router(metrics_router())
