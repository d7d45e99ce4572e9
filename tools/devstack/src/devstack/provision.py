"""Create what the services expect: a database each, the RabbitMQ vhost, a clean Redis db."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Coroutine, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import asyncpg
import redis
from servicekit.testing import RUN_MARK, earlier_run_vhosts

from devstack.config import StackConfig


class ProvisionError(RuntimeError):
    pass


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _ensure_databases(config: StackConfig, names: list[str], *, fresh: bool) -> list[str]:
    conn = await asyncpg.connect(
        host=config.postgres_host,
        port=config.postgres_port,
        user=config.postgres_user,
        database="postgres",
        timeout=5,
    )
    created: list[str] = []
    try:
        for name in names:
            if fresh:
                await conn.execute(f"DROP DATABASE IF EXISTS {_quote_ident(name)} WITH (FORCE)")
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if exists:
                continue
            try:
                await conn.execute(f"CREATE DATABASE {_quote_ident(name)}")
            except asyncpg.DuplicateDatabaseError:
                continue  # created meanwhile by a concurrent start; that is what we wanted
            created.append(name)
    finally:
        await conn.close()
    return created


def _run_sync(work: Coroutine[Any, Any, list[str]]) -> list[str]:
    """asyncio.run, also when called from code that already runs an event loop (async fixtures)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()


def ensure_databases(
    config: StackConfig, names: Iterable[str], *, fresh: bool = False
) -> list[str]:
    """Create each database that is missing (drop it first when fresh); return the ones created."""
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return []
    try:
        return _run_sync(_ensure_databases(config, wanted, fresh=fresh))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise ProvisionError(f"cannot create databases {', '.join(wanted)}: {exc}") from exc


def _rabbitmqctl(*args: str) -> subprocess.CompletedProcess[str]:
    ctl = shutil.which("rabbitmqctl")
    if ctl is None:
        raise ProvisionError("rabbitmqctl is not on PATH; it is needed to create a RabbitMQ vhost")
    return subprocess.run(  # noqa: S603 - fixed rabbitmqctl commands
        [ctl, "-q", *args], capture_output=True, text=True, timeout=30, check=False
    )


def ensure_vhost(config: StackConfig, *, fresh: bool = False) -> None:
    """Make the stack's vhost exist with full rights for its user ('/' always exists)."""
    if config.vhost == "/":
        return
    listed = _rabbitmqctl("list_vhosts", "name")
    if listed.returncode != 0:
        raise ProvisionError(f"rabbitmqctl list_vhosts failed: {listed.stderr.strip()}")
    if fresh:
        # An isolated stack's vhost is named for its run (servicekit.testing.run_vhost_name):
        # fresh means new, and what earlier runs of the same label left is deleted.
        if RUN_MARK in config.vhost:
            base = config.vhost.split(RUN_MARK, 1)[0]
            for stale in earlier_run_vhosts(base, listed.stdout.split()):
                if stale != config.vhost:
                    _rabbitmqctl("delete_vhost", stale)
        if config.vhost in listed.stdout.split():
            _rabbitmqctl("delete_vhost", config.vhost)
            listed = _rabbitmqctl("list_vhosts", "name")
    if config.vhost not in listed.stdout.split():
        added = _rabbitmqctl("add_vhost", config.vhost)
        if added.returncode != 0 and "already" not in added.stderr:
            raise ProvisionError(
                f"rabbitmqctl add_vhost {config.vhost} failed: {added.stderr.strip()}"
            )
    granted = _rabbitmqctl(
        "set_permissions", "-p", config.vhost, config.rabbitmq_user, ".*", ".*", ".*"
    )
    if granted.returncode != 0:
        raise ProvisionError(
            f"rabbitmqctl set_permissions on {config.vhost} failed: {granted.stderr.strip()}"
        )


def flush_redis_db(config: StackConfig) -> None:
    """Empty the stack's Redis db; only for isolated stacks, never the developer's db 0."""
    client = redis.Redis(
        host=config.redis_host, port=config.redis_port, db=config.redis_db, socket_connect_timeout=2
    )
    try:
        client.flushdb()
    except redis.RedisError as exc:
        raise ProvisionError(f"cannot flush Redis db {config.redis_db}: {exc}") from exc
    finally:
        client.close()
