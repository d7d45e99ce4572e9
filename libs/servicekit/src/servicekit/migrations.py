"""Versioned SQL migrations applied at start-up under an advisory lock.

Files are `NNNN_description.sql`, applied in order, each in its own transaction, recorded in
`schema_migrations`. Several replicas starting at once queue on the lock; the first applies,
the others find nothing left to do. The shared runtime's own tables (outbox, inbox) come first.
"""

import logging
import zlib
from pathlib import Path

import asyncpg

logger = logging.getLogger(__name__)

RUNTIME_MIGRATIONS = Path(__file__).parent / "migrations"
_LOCK_KEY = zlib.crc32(b"servicekit.migrations")


def _migration_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.sql") if p.name[:4].isdigit())


async def apply_migrations(pool: asyncpg.Pool, *directories: Path) -> list[str]:
    """Apply what is missing from the runtime's and the given folders; return what was applied."""
    applied: list[str] = []
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
        try:
            await conn.execute(
                """CREATE TABLE IF NOT EXISTS schema_migrations (
                       version text PRIMARY KEY,
                       applied_at timestamptz NOT NULL DEFAULT now())"""
            )
            done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
            for directory in (RUNTIME_MIGRATIONS, *directories):
                prefix = "servicekit" if directory == RUNTIME_MIGRATIONS else "service"
                for path in _migration_files(directory):
                    version = f"{prefix}/{path.name}"
                    if version in done:
                        continue
                    async with conn.transaction():
                        await conn.execute(path.read_text())
                        await conn.execute(
                            "INSERT INTO schema_migrations (version) VALUES ($1)", version
                        )
                    logger.info("applied migration %s", version)
                    applied.append(version)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    return applied


class MigrationsMissing(RuntimeError):
    """The database lacks migrations this code needs (MIGRATE_ON_START=false, Job not run)."""


async def missing_migrations(pool: asyncpg.Pool, *directories: Path) -> list[str]:
    """The migrations of the runtime's and the given folders not yet recorded as applied."""
    wanted = [
        f"{'servicekit' if directory == RUNTIME_MIGRATIONS else 'service'}/{path.name}"
        for directory in (RUNTIME_MIGRATIONS, *directories)
        for path in _migration_files(directory)
    ]
    async with pool.acquire() as conn:
        exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
        done = (
            {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
            if exists
            else set()
        )
    return [version for version in wanted if version not in done]
