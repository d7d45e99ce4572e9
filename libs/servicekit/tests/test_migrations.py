"""Migrations apply once, in order, even when several replicas start at the same moment."""

import asyncio
from pathlib import Path

import asyncpg
from servicekit.db import open_pool
from servicekit.migrations import apply_migrations
from servicekit.testing import create_database


def write_migrations(folder: Path) -> None:
    (folder / "0001_seats.sql").write_text(
        "CREATE TABLE seats (id serial PRIMARY KEY, label text NOT NULL);"
    )
    (folder / "0002_first_seat.sql").write_text(
        "INSERT INTO seats (label) VALUES ('A1'); SELECT pg_sleep(0.2);"
    )
    (folder / "README.txt").write_text("not a migration")


async def test_replicas_starting_together_apply_each_migration_exactly_once(
    tmp_path: Path,
) -> None:
    write_migrations(tmp_path)
    dsn = await create_database("servicekit_migrations_test")
    pools = [await open_pool(dsn, min_size=1, max_size=1) for _ in range(6)]
    try:
        results = await asyncio.gather(*(apply_migrations(p, tmp_path) for p in pools))
        applied = [version for result in results for version in result]
        assert sorted(applied) == sorted(
            [
                "servicekit/0001_outbox_inbox.sql",
                "servicekit/0002_outbox_write_order.sql",
                "service/0001_seats.sql",
                "service/0002_first_seat.sql",
            ]
        ), "every migration applied by exactly one replica"
        assert await pools[0].fetchval("SELECT count(*) FROM seats") == 1
        assert await apply_migrations(pools[0], tmp_path) == []
    finally:
        await asyncio.gather(*(p.close() for p in pools))


async def test_failing_migration_rolls_back_and_is_retried_next_start(tmp_path: Path) -> None:
    (tmp_path / "0001_broken.sql").write_text(
        "CREATE TABLE half (id int); INSERT INTO nowhere VALUES (1);"
    )
    dsn = await create_database("servicekit_migrations_test")
    pool = await open_pool(dsn, min_size=1, max_size=1)
    try:
        try:
            await apply_migrations(pool, tmp_path)
        except asyncpg.UndefinedTableError:
            pass
        else:
            raise AssertionError("a broken migration must fail the start-up")
        assert await pool.fetchval("SELECT to_regclass('half')") is None
        (tmp_path / "0001_broken.sql").write_text("CREATE TABLE half (id int);")
        assert await apply_migrations(pool, tmp_path) == ["service/0001_broken.sql"]
    finally:
        await pool.close()
