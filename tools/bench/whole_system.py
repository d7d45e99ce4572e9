"""Benchmark: the whole system through the nginx gateway, on an isolated copy of the stack.

The scenarios of issue 13, in one run of this machine's real PostgreSQL, RabbitMQ, Redis and
nginx, with the Midtrans sandbox and the mail sink:
- flash sale: one paid event, 500 seats, 2,000 distinct buyers over 50 connections, one try each;
- no competition: 500 buyers of an event with seats for all, 50 connections;
- settle storm: those 500 pay in the sandbox at once; until all are `active`, and all e-tickets
  are in the mail sink;
- door: the 500 checked in by attendance code over 50 connections;
- the floor (floor_app.py): FastAPI + asyncpg, one INSERT per request, one process.
Each scenario reports throughput, p50/p99, CPU ms per operation per process (utime + stime
from /proc before and after) and the largest RSS per process.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from cpu import ProcessWatch, Sample, cpu_per_operation
from devstack.config import StackConfig, free_port
from devstack.stack import Stack
from devstack.token import make_token
from load import Answer, Call, by_status, latency, run_calls
from servicekit.testing import create_database

CONNECTIONS = 50
FLASH_SEATS, FLASH_BUYERS = 500, 2_000
OPEN_BUYERS = 500
FLOOR_WRITES = 2_000
PRICE = 150_000
SETTLE_TIMEOUT_SECONDS = 120.0


async def run(workers: int | None = None) -> dict[str, Any]:
    config = StackConfig.isolated(label="bench").with_changes(redis_db=6, ready_timeout=90.0)
    if workers is not None:
        config = config.with_changes(web_concurrency=workers)
    stack = Stack(config, log=lambda line: None)
    stack.up()
    only = os.environ.get("BENCH_PROFILE_ONLY")
    profilers: list[subprocess.Popen[bytes]] = []
    try:
        if not only:
            profilers = _start_profilers(config)
        watch = ProcessWatch(config.pids_dir, {"bench (load)": os.getpid()}, servers=True)
        bench = _Bench(config, watch)
        bench.profile_only = only
        figures = await bench.measure()
    finally:
        _stop_profilers(profilers)
        stack.stop()
    figures["floor"] = await _floor()
    floor_rate = figures["floor"]["per_second"]
    for name in ("flash_sale", "no_competition", "door"):
        figures[name]["ratio_to_floor"] = round(figures[name]["per_second"] / floor_rate, 3)
    # getattr: the bench also measures an older checkout whose devstack has no worker count.
    return {"workers_per_service": getattr(config, "web_concurrency", 1), **figures}


class _Bench:
    def __init__(self, config: StackConfig, watch: ProcessWatch) -> None:
        self.config = config
        self.watch = watch
        self.host = config.host
        self.gateway_port = config.gateway_port
        self.host_auth = self._auth("bench-host", ("host",))
        self.rss: dict[str, float] = {}
        self.profile_only: str | None = None

    @asynccontextmanager
    async def _profiled(self, scenario: str) -> AsyncIterator[None]:
        """BENCH_PROFILE_ONLY=<scenario>: py-spy samples that scenario alone."""
        profilers = _start_profilers(self.config) if self.profile_only == scenario else []
        if profilers:
            await asyncio.sleep(1.0)  # py-spy attaches before the scenario starts
        try:
            yield
        finally:
            _stop_profilers(profilers)

    def _auth(self, sub: str, roles: tuple[str, ...] = ("user",)) -> dict[str, str]:
        return {"Authorization": f"Bearer {make_token(self.config, sub, roles)}"}

    def _sample(self) -> Sample:
        sample = self.watch.sample()
        for name, mib in sample.rss_mib.items():
            self.rss[name] = round(max(self.rss.get(name, 0.0), mib), 1)
        return sample

    async def _gateway(self, calls: list[Call], connections: int = CONNECTIONS) -> list[Answer]:
        return await run_calls(self.host, self.gateway_port, calls, connections)

    async def measure(self) -> dict[str, Any]:
        warm_up = await self._new_event(60)
        await self._gateway(self._purchases(warm_up, "warm", 50), 10)
        async with self._profiled("flash_sale"):
            flash = await self._flash_sale()
        async with self._profiled("no_competition"):
            open_sale, bought = await self._no_competition()
        async with self._profiled("settle_storm"):
            storm = await self._settle_storm(open_sale, bought)
        async with self._profiled("door"):
            door = await self._door(open_sale, bought)
        self._sample()
        return {
            "flash_sale": flash,
            "no_competition": {k: v for k, v in open_sale.items() if k != "event_id"},
            "settle_storm": storm,
            "door": door,
            "rss_mib_max": self.rss,
        }

    async def _new_event(self, capacity: int) -> str:
        event_id = str(uuid.uuid4())
        [created] = await self._gateway(
            [
                Call.with_json(
                    "PUT",
                    f"/events/{event_id}",
                    {
                        "title": "Benchmark Night",
                        "venue": "Bench Hall",
                        "starts_at": "2027-01-20T19:00:00+07:00",
                        "price": PRICE,
                        "currency": "IDR",
                        "capacity": capacity,
                    },
                    self.host_auth,
                )
            ],
            1,
        )
        assert created.status in (200, 201), created.body
        return event_id

    def _purchases(self, event_id: str, prefix: str, count: int) -> list[Call]:
        return [
            Call.post_json(
                "/tickets/purchase",
                {
                    "event_id": event_id,
                    "customer_name": f"Buyer {n}",
                    "customer_email": f"{prefix}{n}@bench.example.id",
                    "amount": PRICE,
                },
                self._auth(f"{prefix}-{n}-{event_id[:8]}"),
            )
            for n in range(count)
        ]

    async def _timed(
        self, scenario: str, calls: list[Call]
    ) -> tuple[list[Answer], float, Sample, Sample]:
        before = self._sample()
        started = time.perf_counter()
        answers = await self._gateway(calls)
        elapsed = time.perf_counter() - started
        _write_timeline(scenario, started, answers)
        return answers, elapsed, before, self._sample()

    async def _flash_sale(self) -> dict[str, Any]:
        event_id = await self._new_event(FLASH_SEATS)
        calls = self._purchases(event_id, "flash", FLASH_BUYERS)
        started = time.perf_counter()
        answers, elapsed, before, after = await self._timed("flash_sale", calls)
        sold = sorted(a.finished for a in answers if a.status == 201)
        last_sale = (sold[-1] - started) if sold else float("nan")
        return {
            "buyers": FLASH_BUYERS,
            "seats": FLASH_SEATS,
            "answers_by_status": by_status(answers),
            "sold": len(sold),
            "last_sale_after_s": round(last_sale, 2),
            "per_second": round(len(sold) / last_sale, 1) if sold else 0.0,
            "all_answered_after_s": round(elapsed, 2),
            **latency(answers),
            "cpu_ms_per_request": cpu_per_operation(before, after, len(answers)),
            "cpu_ms_per_sale": cpu_per_operation(before, after, len(sold)),
        }

    async def _no_competition(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        event_id = await self._new_event(OPEN_BUYERS)
        answers, elapsed, before, after = await self._timed(
            "no_competition", self._purchases(event_id, "open", OPEN_BUYERS)
        )
        bought = [a.json()["data"] for a in answers if a.status == 201]
        figures = {
            "event_id": event_id,
            "buyers": OPEN_BUYERS,
            "answers_by_status": by_status(answers),
            "seconds": round(elapsed, 2),
            "per_second": round(len(bought) / elapsed, 1),
            **latency(answers),
            "cpu_ms_per_purchase": cpu_per_operation(before, after, len(bought)),
        }
        return figures, bought

    async def _settle_storm(
        self, open_sale: dict[str, Any], bought: list[dict[str, Any]]
    ) -> dict[str, Any]:
        pays = [
            Call.post_json(
                f"/_sandbox/orders/{ticket['payment']['order_id']}/pay",
                {"payment_type": "bank_transfer", "outcome": "settlement"},
                {},
            )
            for ticket in bought
        ]
        codes = {ticket["attendance_code"] for ticket in bought}
        mail_before = await self._mail_count()
        before = self._sample()
        started = time.perf_counter()
        paid = await run_calls(self.host, self.config.sandbox_port, pays, CONNECTIONS)
        last_payment = max(a.finished for a in paid) - started
        active_after = await self._until_all_active(open_sale["event_id"], len(bought), started)
        mailed_after = await self._until_mailed(mail_before + len(codes), started)
        after = self._sample()
        if not await self._all_mailed(codes):
            mailed_after = float("nan")
        return {
            "payments": len(paid),
            "payments_by_status": by_status(paid),
            "last_payment_after_s": round(last_payment, 2),
            "all_active_after_s": round(active_after, 2),
            "all_active_after_last_payment_s": round(active_after - last_payment, 2),
            "per_second": round(len(bought) / active_after, 1),
            "all_e_tickets_mailed_after_s": round(mailed_after, 2),
            "cpu_ms_per_settlement": cpu_per_operation(before, after, len(bought)),
        }

    async def _until_all_active(self, event_id: str, count: int, started: float) -> float:
        probe = Call("GET", f"/events/{event_id}", self.host_auth)
        while time.perf_counter() - started < SETTLE_TIMEOUT_SECONDS:
            [answer] = await self._gateway([probe], 1)
            if answer.status == 200 and answer.json()["data"]["sold"] >= count:
                return answer.finished - started
            await asyncio.sleep(0.05)
        return float("nan")

    async def _mail_count(self) -> int:
        [counted] = await run_calls(
            self.host, self.config.mail_http_port, [Call("GET", "/messages/count", {})], 1
        )
        if counted.status != 200:  # an older checkout's sink: count the listing
            [listed] = await run_calls(
                self.host, self.config.mail_http_port, [Call("GET", "/messages", {})], 1
            )
            return len(listed.json()["data"])
        count: int = counted.json()["data"]["count"]
        return count

    async def _until_mailed(self, count: int, started: float) -> float:
        """Until the sink holds `count` messages (its count is cheap to poll)."""
        while time.perf_counter() - started < SETTLE_TIMEOUT_SECONDS:
            if await self._mail_count() >= count:
                return time.perf_counter() - started
            await asyncio.sleep(0.1)
        return float("nan")

    async def _all_mailed(self, codes: set[str]) -> bool:
        """Each code is in one of the e-mails (read once, after the timing)."""
        listing = Call("GET", "/messages", {})
        [answer] = await run_calls(self.host, self.config.mail_http_port, [listing], 1)
        texts = [message.get("text") or "" for message in answer.json()["data"]]
        return all(any(code in text for text in texts) for code in codes)

    async def _door(
        self, open_sale: dict[str, Any], bought: list[dict[str, Any]]
    ) -> dict[str, Any]:
        calls = [
            Call.post_json(
                "/tickets/check-in",
                {"attendance_code": ticket["attendance_code"], "event_id": open_sale["event_id"]},
                self.host_auth,
            )
            for ticket in bought
        ]
        answers, elapsed, before, after = await self._timed("door", calls)
        admitted = [a for a in answers if a.status == 200]
        return {
            "check_ins": len(calls),
            "answers_by_status": by_status(answers),
            "seconds": round(elapsed, 2),
            "per_second": round(len(admitted) / elapsed, 1),
            **latency(answers),
            "cpu_ms_per_check_in": cpu_per_operation(before, after, len(admitted)),
        }


def _write_timeline(scenario: str, started: float, answers: list[Answer]) -> None:
    """BENCH_TIMELINE=DIR: one line per answer (sent after s, took ms, status), to read a tail."""
    folder = os.environ.get("BENCH_TIMELINE")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    lines = [
        f"{a.started - started:.4f} {a.ms:.1f} {a.status}"
        for a in sorted(answers, key=lambda a: a.started)
    ]
    (Path(folder) / f"{scenario}.txt").write_text("\n".join(lines) + "\n")


def _start_profilers(config: StackConfig) -> list[subprocess.Popen[bytes]]:
    """BENCH_PROFILE=DIR: py-spy (if installed) samples each service for the whole run."""
    folder = os.environ.get("BENCH_PROFILE")
    if not folder:
        return []
    Path(folder).mkdir(parents=True, exist_ok=True)
    watch = ProcessWatch(config.pids_dir)
    profilers = []
    for name, pids in watch.groups().items():
        if name.endswith(("service", "notification-gateway")):
            for pid in pids:
                form = os.environ.get("BENCH_PROFILE_FORMAT", "raw")
                out = Path(folder) / f"{name}-{pid}.{'txt' if form == 'raw' else 'json'}"
                argv = [_py_spy(), "record", "-p", str(pid), "-f", form, "-o", str(out)]
                argv += ["--rate", os.environ.get("BENCH_PROFILE_RATE", "100")]
                argv += ["--idle"] if form == "speedscope" else []
                profilers.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL))  # noqa: S603
    return profilers


def _py_spy() -> str:
    """py-spy beside this Python (pip install py-spy into the venv), else the one on PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else "py-spy"


def _stop_profilers(profilers: list[subprocess.Popen[bytes]]) -> None:
    for profiler in profilers:
        profiler.send_signal(signal.SIGINT)
    for profiler in profilers:
        profiler.wait(30)


async def _floor() -> dict[str, Any]:
    namespace = os.environ.get("TEST_NAMESPACE", "")
    dsn = await create_database(f"bench_floor{'_' + namespace if namespace else ''}")
    port = free_port()
    script = Path(__file__).with_name("floor_app.py")
    app = subprocess.Popen([sys.executable, str(script), str(port), dsn])  # noqa: S603, ASYNC220
    try:
        await _wait_answering(port)
        watch = ProcessWatch(
            Path("/nonexistent"), {"floor": app.pid, "bench (load)": os.getpid()}, servers=True
        )
        calls = [Call.post_json("/writes", {"n": n}) for n in range(FLOOR_WRITES)]
        await run_calls("127.0.0.1", port, calls[:200], CONNECTIONS)  # warm-up
        before = watch.sample()
        started = time.perf_counter()
        answers = await run_calls("127.0.0.1", port, calls, CONNECTIONS)
        elapsed = time.perf_counter() - started
        after = watch.sample()
        return {
            "writes": len(answers),
            "answers_by_status": by_status(answers),
            "per_second": round(len(answers) / elapsed, 1),
            **latency(answers),
            "cpu_ms_per_write": cpu_per_operation(before, after, len(answers)),
            "rss_mib": round(after.rss_mib["floor"], 1),
        }
    finally:
        app.terminate()
        app.wait(10)


async def _wait_answering(port: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            [answer] = await run_calls("127.0.0.1", port, [Call("GET", "/healthz", {})], 1)
            if answer.status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the floor app did not start")
        await asyncio.sleep(0.1)
