"""payment-service's own Prometheus figures: Midtrans calls, refunds, payments, the reconciler.

Midtrans calls are counted in the HTTP client's transport (every call of `MidtransClient`
passes there, retries included, timeouts and refused connections too), so the client and the
use cases stay as they are. Refunds by state, open payments and the reconciler's findings are
read from the database at scrape time.
"""

import re
import time

import asyncpg
import httpx
from prometheus_client import Counter, Gauge, Histogram
from servicekit.jsoncodec import loads
from servicekit.metrics import LATENCY_BUCKETS, set_counts

MIDTRANS_CALLS = Counter(
    "midtrans_api_requests_total",
    "Calls to Midtrans by operation and outcome: ok, refused (4xx), not_found, server_error "
    "(5xx), timeout, unreachable.",
    ["operation", "outcome"],
)
MIDTRANS_LATENCY = Histogram(
    "midtrans_api_request_duration_seconds",
    "Time Midtrans took to answer (or to fail), by operation.",
    ["operation"],
    buckets=LATENCY_BUCKETS,
)
REFUNDS = Gauge("payment_refunds", "Refunds by state; read at scrape time.", ["status"])
OPEN_PAYMENTS = Gauge(
    "payments_open", "Payments not yet final, by status; read at scrape time.", ["status"]
)
RECONCILER_FINDINGS = Gauge(
    "payment_reconciler_findings",
    "Changes the reconciler made from Midtrans' status answer (a notification that never came), "
    "by verdict and resulting status; a running total from the audit log, read at scrape time.",
    ["verdict", "to_status"],
)

_CORE_PATH = re.compile(r"/v2/[^/]+/(status|cancel|expire|refund)$")
OPEN_STATUSES = ("created", "pending", "challenge", "denied", "captured")
REFUND_STATUSES = ("requested", "pending", "succeeded", "awaiting_payout", "paid_out", "failed")


class CountedTransport(httpx.AsyncBaseTransport):
    """Wraps the real transport; counts and times each request to Midtrans by its outcome."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        operation = operation_of(request.url.path)
        started = time.perf_counter()
        try:
            response = await self._inner.handle_async_request(request)
            # Read here (bodies are small JSON): Core API refusals hide in a 200's body.
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
            await response.aclose()
        except httpx.TimeoutException:
            self._count(operation, "timeout", started)
            raise
        except httpx.TransportError:
            self._count(operation, "unreachable", started)
            raise
        answered = httpx.Response(
            response.status_code,
            headers=response.headers,
            content=raw,
            request=request,
            extensions=response.extensions,
        )
        self._count(operation, outcome_of(answered), started)
        return answered

    async def aclose(self) -> None:
        await self._inner.aclose()

    @staticmethod
    def _count(operation: str, outcome: str, started: float) -> None:
        MIDTRANS_CALLS.labels(operation, outcome).inc()
        MIDTRANS_LATENCY.labels(operation).observe(time.perf_counter() - started)


def operation_of(path: str) -> str:
    """The operation label, as MidtransClient names its calls (bounded, never the order id)."""
    if path.endswith("/snap/v1/transactions"):
        return "snap.create"
    match = _CORE_PATH.search(path)
    return f"core.{match.group(1)}" if match else "other"


def outcome_of(response: httpx.Response) -> str:
    if response.status_code >= 500:
        return "server_error"
    code = _body_status_code(response)
    if response.status_code == 404 or code == 404:
        return "not_found"
    if code is not None and code >= 500:
        return "server_error"
    # 407 is Midtrans' normal answer for an expired transaction, not a refusal.
    if response.status_code >= 400 or (code is not None and code >= 400 and code != 407):
        return "refused"
    return "ok"


def _body_status_code(response: httpx.Response) -> int | None:
    try:
        body = loads(response.content)
    except ValueError:
        return None
    code = body.get("status_code") if isinstance(body, dict) else None
    return int(code) if isinstance(code, str) and code.isdigit() else None


async def refresh_payment_figures(conn: asyncpg.Connection) -> None:
    refunds = await conn.fetch("SELECT status, count(*) AS count FROM refunds GROUP BY 1")
    set_counts(REFUNDS, refunds, ["status"], known=[(s,) for s in REFUND_STATUSES])
    # The partial index payments_open covers exactly these statuses.
    open_payments = await conn.fetch(
        """SELECT status, count(*) AS count FROM payments
           WHERE status IN ('created', 'pending', 'challenge', 'denied', 'captured') GROUP BY 1"""
    )
    set_counts(OPEN_PAYMENTS, open_payments, ["status"], known=[(s,) for s in OPEN_STATUSES])
    findings = await conn.fetch(
        """SELECT verdict, to_status, count(*) AS count FROM payment_transitions
           WHERE source = 'reconciler' GROUP BY 1, 2"""
    )
    set_counts(RECONCILER_FINDINGS, findings, ["verdict", "to_status"])
