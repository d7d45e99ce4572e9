"""Helpers for integration and e2e tests on the real PostgreSQL, RabbitMQ and processes."""

import asyncio
import inspect
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote, unquote

import aio_pika
import asyncpg
import httpx
from aio_pika.abc import AbstractConnection
from prometheus_client.parser import text_string_to_metric_families
from ticketing_contracts import EXCHANGE, EventEnvelope

from servicekit.free_ports import free_port as free_port

ADMIN_DSN = os.environ.get(
    "TEST_POSTGRES_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
AMQP_BASE = os.environ.get("TEST_AMQP_BASE", "amqp://guest:guest@127.0.0.1:5672")
# Two test runs on one machine (two work trees, say) keep apart by setting TEST_NAMESPACE:
# every database and vhost a test creates gets it as a suffix.
TEST_NAMESPACE = os.environ.get("TEST_NAMESPACE", "")


def namespaced(name: str) -> str:
    return f"{name}_{TEST_NAMESPACE}" if TEST_NAMESPACE else name


def database_url(name: str) -> str:
    return ADMIN_DSN.rsplit("/", 1)[0] + "/" + namespaced(name)


async def create_database(name: str) -> str:
    """Drop and create database `name` (namespaced); return its DSN."""
    dsn = database_url(name)
    name = namespaced(name)
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return dsn


RUN_MARK = ".run-"


def run_vhost_name(base: str) -> str:
    """A vhost name no earlier run used: `<base>.run-<random>`.

    RabbitMQ 3.10 can wedge its vhost supervisor (every vhost command then hangs) when a vhost is
    deleted soon after it was deleted and added again under the same name, as a test run that
    recycles one name does; a name of its own per run never meets that.
    """
    return f"{base}{RUN_MARK}{uuid.uuid4().hex[:8]}"


def earlier_run_vhosts(base: str, listed: Sequence[str]) -> list[str]:
    """The vhosts of `listed` that earlier runs made from `base`."""
    return [name for name in listed if name.startswith(base + RUN_MARK)]


def fresh_vhost(name: str) -> str:
    """A new RabbitMQ vhost for this run (namespaced; rabbitmqctl as root); its AMQP URL.

    The vhosts earlier runs made from the same name are deleted first.
    """
    base = namespaced(name)
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_vhosts", "name"], capture_output=True, text=True, check=True
    ).stdout.split()
    for stale in earlier_run_vhosts(base, listed):
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", stale], capture_output=True)
    vhost = run_vhost_name(base)
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], capture_output=True, check=True)
    subprocess.run(
        ["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
        capture_output=True,
        check=True,
    )
    return f"{AMQP_BASE}/{quote(vhost, safe='')}"


def vhost_of(amqp_url: str) -> str:
    """The vhost an AMQP URL names."""
    return unquote(amqp_url.rsplit("/", 1)[1])


async def wait_until_ready(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} not ready after {timeout}s")
            await asyncio.sleep(0.1)


class ServiceProcess:
    """A real process (a service, the sandbox) started for a test and stopped after it."""

    def __init__(
        self,
        args: Sequence[str],
        *,
        env: Mapping[str, str],
        ready_url: str,
        log_path: Path,
        cwd: Path | None = None,
    ) -> None:
        self.args = [sys.executable, *args] if args[0] == "-m" else list(args)
        self.env = {**os.environ, **env}
        self.ready_url = ready_url
        self.log_path = log_path
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self, timeout: float = 30.0) -> "ServiceProcess":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.args,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.cwd,
            start_new_session=True,
        )
        try:
            await wait_until_ready(self.ready_url, timeout)
        except TimeoutError as exc:
            self.stop()
            raise TimeoutError(f"{exc}; log tail:\n{self.log_tail()}") from exc
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    def kill(self) -> None:
        """Die at once, as a crash would: no graceful shutdown."""
        self.stop(signal.SIGKILL)

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    async def __aenter__(self) -> "ServiceProcess":
        return await self.start()

    async def __aexit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()


async def publish_envelope(connection: AbstractConnection, envelope: EventEnvelope) -> None:
    """Publish `envelope` as a relay would: confirmed, persistent, and routable or an error."""
    async with connection.channel(publisher_confirms=True) as channel:
        exchange = await channel.get_exchange(EXCHANGE, ensure=False)
        await exchange.publish(
            aio_pika.Message(
                body=envelope.model_dump_json().encode(),
                message_id=str(envelope.event_id),
                type=envelope.event_type,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=envelope.event_type,
            mandatory=True,
        )


MetricSamples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape_metrics(base_url: str) -> MetricSamples:
    """GET `<base_url>/metrics`, parsed by prometheus-client's own parser."""
    async with httpx.AsyncClient(timeout=10, trust_env=False) as client:
        response = await client.get(f"{base_url}/metrics")
    response.raise_for_status()
    samples: MetricSamples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def metric(samples: MetricSamples, name: str, **labels: str) -> float:
    """The sample with exactly these labels; 0 when it is not there (yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def metric_sum(samples: MetricSamples, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include these."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def threaded_dependencies(app: Any) -> list[str]:
    """What FastAPI would run on its thread pool for a request: a plain `def` endpoint or
    dependency, one thread hop (and the GIL's hand-over) per call. Named `module.name (path)`, the
    path as its own router declares it."""
    found: set[str] = set()

    def routes(container: Sequence[Any]) -> Iterator[Any]:
        for route in container:
            included = getattr(route, "original_router", None)  # an included router, kept whole
            yield from routes(included.routes) if included is not None else (route,)

    def threaded(call: Any) -> bool:
        # A class instance with an `async def __call__` (a security scheme, say) is awaited too.
        method = type(call).__call__ if not inspect.isroutine(call) else None
        return not any(
            inspect.iscoroutinefunction(c) or inspect.isasyncgenfunction(c) for c in (call, method)
        )

    def visit(dependant: Any, path: str) -> None:
        call = dependant.call
        if call is not None and threaded(call):
            found.add(f"{call.__module__}.{call.__qualname__} ({path})")
        for inner in dependant.dependencies:
            visit(inner, path)

    for route in routes(app.routes):
        dependant = getattr(route, "dependant", None)
        if dependant is not None:
            visit(dependant, route.path)
    return sorted(found)
