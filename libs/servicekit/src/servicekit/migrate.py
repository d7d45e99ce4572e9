"""`python -m servicekit.migrate <package>`: apply a service's migrations and exit (the k8s Job).

`<package>` is the service's import name (`ticket_service`); its SQL lives in
`<package>/migrations`. The database comes from `DATABASE_URL`. Safe to run while replicas
start: the same advisory lock as at start-up orders them. Exit 0 when the database is current.
"""

import argparse
import asyncio
import importlib.util
import logging
import sys
from pathlib import Path

from servicekit.db import open_pool
from servicekit.logs import configure_logging, register_secret
from servicekit.migrations import apply_migrations
from servicekit.settings import ServiceSettings

logger = logging.getLogger("servicekit.migrate")


def migrations_of(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"no such package: {package}")
    folder = Path(next(iter(spec.submodule_search_locations))) / "migrations"
    if not folder.is_dir():
        raise SystemExit(f"{package} has no migrations folder ({folder})")
    return folder


async def migrate(package: str, settings: ServiceSettings) -> list[str]:
    pool = await open_pool(settings.database_url.get_secret_value(), min_size=1, max_size=1)
    try:
        return await apply_migrations(pool, migrations_of(package))
    finally:
        await pool.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m servicekit.migrate", description=__doc__)
    parser.add_argument("package", help="the service's import name, e.g. ticket_service")
    args = parser.parse_args(argv)
    settings = ServiceSettings(service_name=f"{args.package}-migrate")
    configure_logging(settings.service_name, settings.log_level)
    register_secret(settings.database_url.get_secret_value())
    applied = asyncio.run(migrate(args.package, settings))
    logger.info("%s: %d migration(s) applied; the database is current", args.package, len(applied))
    return 0


if __name__ == "__main__":
    sys.exit(main())
