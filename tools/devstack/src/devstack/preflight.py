"""Pre-flight checks: is each machine dependency of the chosen processes up, and how to start it."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from devstack.config import StackConfig

CONNECT_TIMEOUT = 1.0

# The same commands as tools/ensure-dependencies.sh, which `make run` and `make test` run first
# (as root it runs them itself).
_HOW_TO_START = {
    "postgres": (
        "start it (as root): pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main"
        " start  (install: apt-get install -y postgresql)"
    ),
    "rabbitmq": (
        "start it (as root): rabbitmq-server -detached  (then wait until `rabbitmqctl"
        " await_startup` returns; install: apt-get install -y rabbitmq-server)"
    ),
    "redis": (
        "start it (as root): mkdir -p /var/lib/redis /var/log/redis && redis-server --daemonize"
        ' yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis'
        " --logfile /var/log/redis/ci.log  (install: apt-get install -y redis-server)"
    ),
    "nginx": "install it (as root): apt-get update && apt-get install -y nginx-light",
}
_LABELS = {"postgres": "PostgreSQL", "rabbitmq": "RabbitMQ", "redis": "Redis", "nginx": "nginx"}


@dataclass(frozen=True)
class Problem:
    dependency: str
    message: str

    def __str__(self) -> str:
        return self.message


class PreflightFailed(RuntimeError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"the stack cannot start:\n{lines}")


def tcp_problem(
    name: str, host: str, port: int, timeout: float = CONNECT_TIMEOUT
) -> Problem | None:
    """None if something accepts TCP connections on host:port, else what is wrong and the fix."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except TimeoutError:
        reason = f"no answer within {timeout:g} s"
    except OSError as exc:
        reason = exc.strerror or str(exc)
    label = _LABELS.get(name, name)
    return Problem(
        name, f"{label} is not reachable at {host}:{port} ({reason}); {_HOW_TO_START[name]}"
    )


def nginx_problem() -> Problem | None:
    if shutil.which("nginx") is None:
        return Problem("nginx", f"nginx is not installed (not on PATH); {_HOW_TO_START['nginx']}")
    return None


def port_in_use_problem(name: str, host: str, port: int) -> Problem | None:
    """The stack's own ports must be free; else another stack or a stray process holds them."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return Problem(
                name,
                f"port {host}:{port} for {name} is already in use; is a stack already up?"
                " Stop it with `make down`, or find the holder with `ss -ltnp 'sport = :{port}'`",
            )
    return None


def check(
    config: StackConfig, needs: Iterable[str], ports: Iterable[tuple[str, int]] = ()
) -> list[Problem]:
    """All problems at once (checked in parallel, so this takes at most about CONNECT_TIMEOUT)."""
    wanted = set(needs)
    endpoints = {
        "postgres": (config.postgres_host, config.postgres_port),
        "rabbitmq": (config.rabbitmq_host, config.rabbitmq_port),
        "redis": (config.redis_host, config.redis_port),
    }
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [
            pool.submit(tcp_problem, name, *endpoints[name]) for name in endpoints if name in wanted
        ]
        problems = [future.result() for future in futures]
    if "nginx" in wanted:
        problems.append(nginx_problem())
    problems.extend(port_in_use_problem(name, config.host, port) for name, port in ports)
    return [problem for problem in problems if problem is not None]


def require(
    config: StackConfig, needs: Iterable[str], ports: Iterable[tuple[str, int]] = ()
) -> None:
    problems = check(config, needs, ports)
    if problems:
        raise PreflightFailed(problems)
