"""WEB_CONCURRENCY=2: two worker processes on one port, one relay, and a stop that drains both."""

import asyncio
import os
import signal
import sys
from pathlib import Path

import asyncpg
import httpx
from drain_app import SCHEMA
from messaging_helpers import wait_for
from servicekit.testing import ServiceProcess, create_database, free_port

APP = Path(__file__).parent / "drain_app.py"
REQUESTS = 12


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if fields[0] != "Z" and int(fields[1]) == pid:
                found.append(int(entry))
    return found


async def test_two_workers_share_the_port_one_relays_and_sigterm_drains_both(
    amqp_url: str, tmp_path: Path
) -> None:
    dsn = await create_database("servicekit_workers_test")
    # The demo app creates its tables in its setup, in each worker: two CREATE TABLE IF NOT
    # EXISTS at once collide in PostgreSQL's catalog, so they exist before (services migrate
    # under an advisory lock instead).
    setup = await asyncpg.connect(dsn)
    try:
        await setup.execute(SCHEMA)
        await setup.execute("TRUNCATE orders")
    finally:
        await setup.close()
    port = free_port()
    env = {
        "SERVICE_NAME": "workers-demo",
        "HTTP_PORT": str(port),
        "DATABASE_URL": dsn,
        "AMQP_URL": amqp_url,
        "REDIS_URL": "redis://127.0.0.1:6379/1",
        "WEB_CONCURRENCY": "2",
        "SHUTDOWN_DRAIN_SECONDS": "0.5",
        "OUTBOX_POLL_SECONDS": "30",  # only a NOTIFY can make the relay publish in time
    }
    url = f"http://127.0.0.1:{port}"
    service = ServiceProcess(
        [sys.executable, str(APP)],
        env=env,
        ready_url=f"{url}/readyz",
        log_path=tmp_path / "workers.log",
    )
    await service.start()
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        assert service.process is not None
        parent = service.process.pid
        workers = _children(parent)
        assert len(workers) == 2, service.log_tail()

        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            first = await asyncio.gather(*(client.post(f"/orders/o-{n}") for n in range(4)))
            assert [r.status_code for r in first] == [200] * 4

            async def all_sent() -> bool:
                unsent = await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
                return bool(await pool.fetchval("SELECT count(*) FROM outbox") == 4 and not unsent)

            await wait_for(all_sent, timeout=10)
            leads = service.log_tail().count("runs the background work")
            assert leads == 1, "exactly one worker relays and runs the jobs"

            in_flight = [
                asyncio.create_task(client.post(f"/orders/late-{n}")) for n in range(REQUESTS)
            ]
            await asyncio.sleep(0.1)
            os.killpg(parent, signal.SIGTERM)  # as devstack and a terminal's Ctrl-C do
            answers = await asyncio.gather(*in_flight)
        assert [a.status_code for a in answers] == [200] * REQUESTS, service.log_tail()
        assert service.process.wait(timeout=15) == 0, service.log_tail()
        assert _children(parent) == []
        assert await pool.fetchval("SELECT count(*) FROM orders") == 4 + REQUESTS
    finally:
        service.stop()
        await pool.close()
