"""`make bench`: runs the benchmarks on this machine's real services and prints their figures.

BENCH_WORKERS=1,2 runs the whole-system scenarios once per worker count (default: one run with
WEB_CONCURRENCY = the number of cores); BENCH_ONLY=whole skips the messaging benchmark.
"""

import asyncio
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import messaging
import whole_system

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop is in the lock; the bench still runs without
    uvloop = None


def _table(figures: dict[str, Any]) -> list[str]:
    rows = [f"{'scenario':<16}{'per s':>9}{'p50 ms':>9}{'p99 ms':>9}  ratio  CPU ms/op"]
    for name, unit in (
        ("flash_sale", "cpu_ms_per_sale"),
        ("no_competition", "cpu_ms_per_purchase"),
        ("settle_storm", "cpu_ms_per_settlement"),
        ("door", "cpu_ms_per_check_in"),
        ("floor", "cpu_ms_per_write"),
    ):
        scenario = figures[name]
        cpu = ", ".join(f"{proc} {ms}" for proc, ms in scenario[unit].items() if ms >= 0.05)
        rows.append(
            f"{name:<16}{scenario['per_second']:>9}{scenario.get('p50_ms', '-'):>9}"
            f"{scenario.get('p99_ms', '-'):>9}  {scenario.get('ratio_to_floor', '-'):<5}  {cpu}"
        )
    return rows


async def main() -> None:
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    results: dict[str, Any] = {}
    if os.environ.get("BENCH_ONLY") != "whole":
        results["messaging (outbox -> relay -> RabbitMQ -> inbox)"] = await messaging.run()
    counts = [int(n) for n in os.environ.get("BENCH_WORKERS", "").split(",") if n.strip()]
    for workers in counts or [None]:
        figures = await whole_system.run(workers)
        results[f"whole system, {figures['workers_per_service']} worker(s) per service"] = figures
    for name, figures in results.items():
        print(f"\n{name}")
        print(json.dumps(figures, indent=2))
        if "floor" in figures:
            print("\n".join(_table(figures)))


if __name__ == "__main__":
    if uvloop is not None:
        uvloop.run(main())
    else:
        asyncio.run(main())
