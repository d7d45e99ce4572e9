"""`python -m mail_sink [--smtp-port 1025] [--http-port 8025] [--host 127.0.0.1]`."""

import argparse
import asyncio
import logging
import os
from collections.abc import Sequence

import uvicorn

from mail_sink.smtp import smtp_factory
from mail_sink.store import MailStore
from mail_sink.web import create_web_app

logger = logging.getLogger("mail_sink")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    env = os.environ
    parser = argparse.ArgumentParser(prog="mail_sink", description=__doc__)
    parser.add_argument(
        "--host", default=env.get("MAIL_SINK_HOST", env.get("HTTP_HOST", "127.0.0.1"))
    )
    parser.add_argument(
        "--smtp-port", type=int, default=int(env.get("MAIL_SINK_SMTP_PORT", "1025"))
    )
    parser.add_argument(
        "--http-port", type=int, default=int(env.get("MAIL_SINK_HTTP_PORT", "8025"))
    )
    parser.add_argument("--capacity", type=int, default=int(env.get("MAIL_SINK_CAPACITY", "1000")))
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    store = MailStore(capacity=args.capacity)
    loop = asyncio.get_running_loop()
    smtp_server = await loop.create_server(lambda: smtp_factory(store), args.host, args.smtp_port)
    logger.info(
        "SMTP on %s:%d, HTTP on %s:%d", args.host, args.smtp_port, args.host, args.http_port
    )
    config = uvicorn.Config(
        create_web_app(store),
        host=args.host,
        port=args.http_port,
        log_level="warning",
        access_log=False,
    )
    try:
        await uvicorn.Server(config).serve()
    finally:
        smtp_server.close()
        await smtp_server.wait_closed()


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s mail-sink %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's line-by-line chatter
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
