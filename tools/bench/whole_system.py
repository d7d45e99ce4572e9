"""Benchmark: the whole system through the nginx gateway, on an isolated copy of the stack.

Measures, on this machine's real PostgreSQL, RabbitMQ, Redis and nginx with the Midtrans sandbox:
- a race: 200 buyers at once for a 50-seat paid event (purchase latency, and that exactly 50 win);
- payment to active: the 50 winners pay in the sandbox; time until every ticket is `active`;
- check-in at the door: 50 check-ins by attendance code, one after another;
- the resident memory (RSS) of every process afterwards.
"""

import asyncio
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from devstack.config import StackConfig
from devstack.stack import Stack
from devstack.token import make_token

SEATS = 50
BUYERS = 200


def summary(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1),
        "max_ms": round(ordered[-1], 1),
    }


async def run() -> dict[str, Any]:
    config = StackConfig.isolated(label="bench").with_changes(redis_db=6, ready_timeout=90.0)
    stack = Stack(config, log=lambda line: None)
    stack.up()
    try:
        return await _measure(config)
    finally:
        stack.stop()


async def _measure(config: StackConfig) -> dict[str, Any]:
    def auth(sub: str, roles: tuple[str, ...] = ("user",)) -> dict[str, str]:
        return {"Authorization": f"Bearer {make_token(config, sub, roles)}"}

    limits = httpx.Limits(max_connections=BUYERS)
    async with httpx.AsyncClient(base_url=config.gateway_url, timeout=60, limits=limits) as http:
        event_id = str(uuid.uuid4())
        created = await http.put(
            f"/events/{event_id}",
            headers=auth("bench-host", ("host",)),
            json={
                "title": "Benchmark Night",
                "venue": "Bench Hall",
                "starts_at": "2027-01-20T19:00:00+07:00",
                "price": 150_000,
                "currency": "IDR",
                "capacity": SEATS,
            },
        )
        created.raise_for_status()

        async def buy(n: int) -> tuple[int, float, dict[str, Any]]:
            user = f"buyer-{n}"
            started = time.perf_counter()
            answer = await http.post(
                "/tickets/purchase",
                headers=auth(user),
                json={
                    "event_id": event_id,
                    "user_id": user,
                    "customer_name": f"Buyer {n}",
                    "customer_email": f"buyer{n}@example.id",
                    "amount": 150_000,
                },
            )
            return answer.status_code, (time.perf_counter() - started) * 1000, answer.json()

        race_started = time.perf_counter()
        results = await asyncio.gather(*(buy(n) for n in range(BUYERS)))
        race_seconds = time.perf_counter() - race_started
        winners = [body["data"] for status, _, body in results if status == 201]
        statuses: dict[int, int] = {}
        for status, _, _ in results:
            statuses[status] = statuses.get(status, 0) + 1

        pay_started = time.perf_counter()
        await asyncio.gather(
            *(
                http.post(
                    f"{config.sandbox_url}/_sandbox/orders/{t['payment']['order_id']}/pay",
                    json={"payment_type": "bank_transfer", "outcome": "settlement"},
                )
                for t in winners
            )
        )
        host = auth("bench-host", ("host",))
        while True:
            event = (await http.get(f"/events/{event_id}", headers=host)).json()["data"]
            if event["sold"] == len(winners) or time.perf_counter() - pay_started > 60:
                break
            await asyncio.sleep(0.05)
        paid_seconds = time.perf_counter() - pay_started

        check_ins: list[float] = []
        for ticket in winners:
            started = time.perf_counter()
            answer = await http.post(
                "/tickets/check-in",
                headers=host,
                json={"attendance_code": ticket["attendance_code"], "event_id": event_id},
            )
            answer.raise_for_status()
            check_ins.append((time.perf_counter() - started) * 1000)

    return {
        "race": {
            "buyers": BUYERS,
            "seats": SEATS,
            "answers_by_status": statuses,
            "tickets_sold": len(winners),
            "seconds": round(race_seconds, 2),
            "purchase_latency": summary([ms for _, ms, _ in results]),
        },
        "payment_to_active": {
            "orders": len(winners),
            "all_active_after_seconds": round(paid_seconds, 2),
            "event_sold_counter": event["sold"],
        },
        "check_in_by_code": {"count": len(check_ins), **summary(check_ins)},
        "rss_mib_after_run": _rss_by_process(config.pids_dir),
    }


def _rss_by_process(pids_dir: Path) -> dict[str, float]:
    rss: dict[str, float] = {}
    for pidfile in sorted(pids_dir.glob("*.pid")):
        pid = pidfile.read_text().split()[0]
        status = Path(f"/proc/{pid}/status")
        if status.exists():
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss[pidfile.stem] = round(int(line.split()[1]) / 1024, 1)
    return rss
