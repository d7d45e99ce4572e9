"""python -m midtrans_sandbox [--host 127.0.0.1] [--port 8090]"""

from __future__ import annotations

import argparse
import logging

import uvicorn

from midtrans_sandbox.app import create_app
from midtrans_sandbox.settings import Settings


def main(argv: list[str] | None = None) -> None:
    defaults = Settings.from_env()
    parser = argparse.ArgumentParser(prog="midtrans_sandbox", description=__doc__)
    parser.add_argument("--host", default=defaults.host)
    parser.add_argument("--port", type=int, default=defaults.port)
    parser.add_argument(
        "--no-access-log", action="store_true", help="do not log every request (benchmarks)"
    )
    args = parser.parse_args(argv)
    settings = Settings.from_env(host=args.host, port=args.port)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        log_level="info",
        access_log=not args.no_access_log,
    )


if __name__ == "__main__":
    main()
