"""Provisioning creates a missing database and vhost, leaves existing ones, can start fresh."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import asyncpg
from devstack.config import StackConfig
from devstack.provision import ensure_databases, ensure_vhost

NAME = "devstack_test"


def _tables(config: StackConfig, database: str) -> list[str]:
    async def fetch() -> list[str]:
        conn = await asyncpg.connect(config.database_url(database))
        try:
            rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            return [row["tablename"] for row in rows]
        finally:
            await conn.close()

    return asyncio.run(fetch())


def _mark(config: StackConfig, database: str) -> None:
    async def create() -> None:
        conn = await asyncpg.connect(config.database_url(database))
        try:
            await conn.execute("CREATE TABLE marker (id int)")
        finally:
            await conn.close()

    asyncio.run(create())


def test_database_is_created_once_and_recreated_when_fresh(tmp_path: Path) -> None:
    config = StackConfig.isolated(tmp_path, label="devstack_test")
    ensure_databases(config, [NAME], fresh=True)
    _mark(config, NAME)
    assert ensure_databases(config, [NAME]) == []
    assert _tables(config, NAME) == ["marker"]
    assert ensure_databases(config, [NAME], fresh=True) == [NAME]
    assert _tables(config, NAME) == []


def test_vhost_is_created_with_permissions_for_the_user(tmp_path: Path) -> None:
    config = StackConfig.isolated(tmp_path, label="devstack_test").with_changes(vhost=NAME)
    ensure_vhost(config, fresh=True)
    ensure_vhost(config)  # a second time changes nothing
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_permissions", "-p", NAME],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "guest" in listed.stdout


async def test_databases_can_be_ensured_from_inside_an_event_loop(tmp_path: Path) -> None:
    config = StackConfig.isolated(tmp_path, label="devstack_test")
    ensure_databases(config, [NAME])
    assert ensure_databases(config, [NAME]) == []
