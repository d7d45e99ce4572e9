"""The migration Job's command, and services that only check migrations (MIGRATE_ON_START=false)."""

import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from pydantic import SecretStr
from servicekit.app import build_app
from servicekit.migrations import MigrationsMissing
from servicekit.settings import ServiceSettings
from servicekit.testing import create_database


def demo_package(root: Path) -> Path:
    package = root / "shop_service"
    (package / "migrations").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "migrations" / "0001_orders.sql").write_text("CREATE TABLE orders (id int);")
    (package / "migrations" / "0002_notes.sql").write_text("ALTER TABLE orders ADD note text;")
    return package


def run_job(root: Path, dsn: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": dsn, "PYTHONPATH": str(root)}
    return subprocess.run(
        [sys.executable, "-m", "servicekit.migrate", "shop_service"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_the_job_applies_a_services_migrations_once(tmp_path: Path) -> None:
    dsn = await create_database("servicekit_migrate_job_test")
    demo_package(tmp_path)
    first = run_job(tmp_path, dsn)
    assert first.returncode == 0, first.stderr + first.stdout
    assert "4 migration(s) applied" in first.stdout  # the runtime's own first
    again = run_job(tmp_path, dsn)
    assert again.returncode == 0 and "0 migration(s) applied" in again.stdout
    conn = await asyncpg.connect(dsn)
    try:
        versions = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in versions] == [
            "service/0001_orders.sql",
            "service/0002_notes.sql",
            "servicekit/0001_outbox_inbox.sql",
            "servicekit/0002_outbox_write_order.sql",
        ]
        await conn.execute("INSERT INTO orders (id, note) VALUES (1, 'ok')")
    finally:
        await conn.close()


def test_the_job_names_an_unknown_package(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "servicekit.migrate", "no_such_service"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "no such package: no_such_service" in result.stderr


async def test_a_service_that_does_not_migrate_refuses_to_start_until_the_job_ran(
    tmp_path: Path, amqp_url: str
) -> None:
    dsn = await create_database("servicekit_migrate_check_test")
    package = demo_package(tmp_path)
    settings = ServiceSettings(
        service_name="shop-service",
        database_url=SecretStr(dsn),
        amqp_url=SecretStr(amqp_url),
        redis_url=SecretStr("redis://127.0.0.1:6379/1"),
        migrate_on_start=False,
    )
    app = build_app(settings, title="shop", migrations=package / "migrations")
    with pytest.raises(MigrationsMissing, match=r"service/0001_orders\.sql.*migration Job"):
        async with app.router.lifespan_context(app):
            pass
    assert run_job(tmp_path, dsn).returncode == 0
    async with app.router.lifespan_context(app):
        assert app.state.runtime.pool is not None
