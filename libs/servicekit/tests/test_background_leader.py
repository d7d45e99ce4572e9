"""One worker of a service runs the background work; the relay wakes on commit, not on a poll."""

import asyncio
import time

import asyncpg
from aio_pika.abc import AbstractRobustConnection
from messaging_helpers import OUTBOX, settled, wait_for
from servicekit.jobs import PeriodicJob, run_forever
from servicekit.leader import Leadership
from servicekit.messaging import OutboxRelay


async def test_one_of_two_workers_leads_and_the_other_takes_over_when_it_stops(
    database_url: str,
) -> None:
    first = Leadership(database_url, "servicekit-test.background")
    second = Leadership(database_url, "servicekit-test.background")
    try:
        answers = await asyncio.gather(first.is_leader(), second.is_leader())
        assert sorted(answers) == [False, True], "exactly one of the two leads"
        leader, standby = (first, second) if answers[0] else (second, first)
        assert await leader.is_leader(), "and goes on leading"
        assert not await standby.is_leader()
        await leader.aclose()  # the leading worker stops: its session and lock go with it
        assert await standby.is_leader()
    finally:
        await asyncio.gather(first.aclose(), second.aclose())


async def test_a_single_flight_job_runs_in_the_leading_worker_only(database_url: str) -> None:
    runs: list[str] = []
    stopping = asyncio.Event()
    workers = []
    for name in ("worker-a", "worker-b"):
        leadership = Leadership(database_url, "servicekit-test.jobs")

        async def run(name: str = name) -> None:
            runs.append(name)

        job = PeriodicJob("count-runs", 0.05, run)
        workers.append((leadership, run_forever(job, stopping=stopping, leadership=leadership)))
    tasks = [asyncio.create_task(runner) for _, runner in workers]
    await asyncio.sleep(0.6)
    stopping.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    for leadership, _ in workers:
        await leadership.aclose()
    assert len(runs) >= 5
    assert len(set(runs)) == 1, f"both workers ran the job: {sorted(set(runs))}"


async def test_a_job_of_every_worker_runs_in_each(database_url: str) -> None:
    runs: list[str] = []
    stopping = asyncio.Event()
    leaderships = [Leadership(database_url, "servicekit-test.fanout") for _ in range(2)]

    def runner(name: str, leadership: Leadership) -> asyncio.Task[None]:
        async def run() -> None:
            runs.append(name)

        job = PeriodicJob("fan-out", 0.05, run, single_flight=False)
        return asyncio.create_task(run_forever(job, stopping=stopping, leadership=leadership))

    tasks = [runner(f"worker-{n}", leadership) for n, leadership in enumerate(leaderships)]
    await asyncio.sleep(0.3)
    stopping.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    await asyncio.gather(*(leadership.aclose() for leadership in leaderships))
    assert set(runs) == {"worker-0", "worker-1"}


async def test_the_relay_publishes_a_committed_event_at_once_not_at_its_poll(
    pool: asyncpg.Pool, amqp: AbstractRobustConnection, database_url: str
) -> None:
    relay = OutboxRelay(pool, amqp, poll_seconds=30.0, listen_dsn=database_url)
    task = asyncio.create_task(relay.run())
    try:

        async def unsent() -> int:
            return int(await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))

        await asyncio.sleep(0.5)  # the first pass found nothing; it now waits up to 30 s
        started = time.monotonic()
        async with pool.acquire() as conn, conn.transaction():
            await OUTBOX.add(conn, settled(1))

        async def sent() -> bool:
            return await unsent() == 0

        await wait_for(sent, timeout=5)
        assert time.monotonic() - started < 2.0
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_standby_relay_publishes_nothing_while_another_leads(
    pool: asyncpg.Pool, amqp: AbstractRobustConnection, database_url: str
) -> None:
    leader = Leadership(database_url, "servicekit-test.relay")
    assert await leader.is_leader()
    standby = Leadership(database_url, "servicekit-test.relay")
    relay = OutboxRelay(pool, amqp, poll_seconds=0.05, leadership=standby)
    task = asyncio.create_task(relay.run())
    try:
        async with pool.acquire() as conn, conn.transaction():
            await OUTBOX.add(conn, settled(2))
        await asyncio.sleep(0.5)
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 1
        await leader.aclose()

        async def sent() -> bool:
            return await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0

        await wait_for(sent, timeout=5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.gather(leader.aclose(), standby.aclose())
