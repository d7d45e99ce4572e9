"""The e2e stack: an isolated copy of the whole system behind a real nginx gateway.

It runs beside a developer's `make run` without touching it: free ports, `*_e2e` databases
(created fresh), RabbitMQ vhost `e2e`, Redis db 5, the sandbox's retries scaled down, and its
own run dir under /tmp. Started once per test session by the `stack` fixture.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from devstack.config import StackConfig
from devstack.preflight import PreflightFailed
from devstack.provision import ProvisionError
from devstack.stack import Stack, StackError, log_tail, module_exists
from devstack.token import make_token

# The tests share their helpers (e2e_waiting.py) from this folder.
sys.path.insert(0, str(Path(__file__).parent))

# Every process of the system and the package it needs; e2e tests drive all of them.
REQUIRED_PACKAGES = {
    "ticket-service": "ticket_service",
    "payment-service": "payment_service",
    "notification-gateway": "notification_gateway",
    "midtrans-sandbox": "midtrans_sandbox",
    "mail-sink": "mail_sink",
}
READY_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class E2EStack:
    """What an e2e test needs to talk to the running system."""

    config: StackConfig

    @property
    def gateway_url(self) -> str:
        return self.config.gateway_url

    @property
    def sandbox_url(self) -> str:
        return self.config.sandbox_url

    @property
    def mail_url(self) -> str:
        return self.config.mail_url

    def token(self, sub: str, roles: Sequence[str] = ("user",)) -> str:
        """A JWT the services accept, for user `sub` with `roles`."""
        return make_token(self.config, sub, roles)

    def auth(self, sub: str, roles: Sequence[str] = ("user",)) -> dict[str, str]:
        """Authorization header for user `sub`."""
        return {"Authorization": f"Bearer {self.token(sub, roles)}"}

    def service_url(self, name: str) -> str:
        """Direct URL of a process (bypassing the gateway), e.g. service_url("payment-service")."""
        return f"http://{self.config.host}:{self.config.process(name).port}"

    def database_url(self, name: str) -> str:
        """URL of a service's e2e database, e.g. ticket-service -> .../ticket_service_e2e."""
        return self.config.database_url(self.config.database_name(name))

    @property
    def amqp_url(self) -> str:
        return self.config.amqp_url

    @property
    def redis_url(self) -> str:
        return self.config.redis_url

    async def attached_pdfs(self, mail: dict[str, Any]) -> dict[str, bytes]:
        """File name -> bytes of every PDF attached to `mail` (as the mail sink lists it)."""
        found: dict[str, bytes] = {}
        async with httpx.AsyncClient(base_url=self.mail_url, timeout=10) as sink:
            for part in mail["attachments"]:
                if part["content_type"] == "application/pdf":
                    answer = await sink.get(f"/messages/{mail['id']}/parts/{part['index']}")
                    found[part["filename"]] = answer.content
        return found

    @staticmethod
    def pdf_text(pdf: bytes) -> str:
        """The text drawing operations of a PDF (its deflated page streams), to look words up in.

        Each stream is read by its /Length: compressed bytes may end in a line break, which a
        pattern up to `endstream` cut off (a truncated stream, one receipt in a few hundred)."""
        found = re.finditer(rb"/Length (\d+) >>\nstream\n", pdf)
        streams = (pdf[m.end() : m.end() + int(m[1])] for m in found)
        return "".join(
            zlib.decompress(stream).decode("latin-1") for stream in streams if stream[:1] == b"x"
        )

    def log(self, name: str, lines: int = 80) -> str:
        """The last lines of a process's log, for failure messages."""
        return log_tail(self.config.logs_dir / f"{name}.log", lines)


@pytest.fixture(scope="session")
def stack() -> Iterator[E2EStack]:
    missing = [
        f"{pkg} ({name})" for name, pkg in REQUIRED_PACKAGES.items() if not module_exists(pkg)
    ]
    if missing:
        pytest.skip(
            f"the e2e stack needs packages that are not installed yet: {', '.join(missing)}"
        )
    config = StackConfig.isolated(label="e2e").with_changes(ready_timeout=READY_TIMEOUT_SECONDS)
    messages: list[str] = []
    system = Stack(config, log=messages.append)
    try:
        system.up()  # stops whatever it started if anything fails
    except (PreflightFailed, ProvisionError, StackError) as exc:
        pytest.fail(f"the e2e stack did not come up: {exc}", pytrace=False)
    try:
        yield E2EStack(config)
    finally:
        system.stop()
        if not os.environ.get("E2E_KEEP_RUN_DIR"):
            shutil.rmtree(config.run_dir, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failing e2e test shows the tail of every process's log beside its traceback."""
    outcome = yield
    report = outcome.get_result()
    if (
        report.when != "call"
        or not report.failed
        or "stack" not in getattr(item, "fixturenames", ())
    ):
        return
    funcargs = getattr(item, "funcargs", {})
    running = funcargs.get("stack")
    if isinstance(running, E2EStack):
        for spec in running.config.processes():
            if (running.config.logs_dir / f"{spec.name}.log").exists():
                report.sections.append((f"log of {spec.name}", running.log(spec.name, 30)))
