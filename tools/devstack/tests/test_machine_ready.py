"""`make run` and `make test` make the machine ready first (tools/ensure-dependencies.sh).

As root they start what is down and install nginx; as anyone else they change nothing and stop
at once, naming the exact command to run as root. The not-root path runs as `nobody` against
closed ports; the root path runs against this machine's real services.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from devstack.config import StackConfig, free_port

ROOT = StackConfig.development().repo_root
SCRIPT = ROOT / "tools" / "ensure-dependencies.sh"
START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_RABBITMQ = "rabbitmq-server -detached"
START_REDIS = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no'
    " --dir /var/lib/redis --logfile /var/log/redis/ci.log"
)
INSTALL_NGINX = "apt-get update && apt-get install -y nginx-light"

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="runs a command as nobody via setpriv")


def _nothing_running_env() -> dict[str, str]:
    return {
        "DEPS_POSTGRES_PORT": str(free_port()),
        "DEPS_RABBITMQ_PORT": str(free_port()),
        "DEPS_REDIS_PORT": str(free_port()),
        "DEPS_NGINX": "/nonexistent/nginx",
    }


@pytest.fixture
def nobodys_copy() -> Iterator[Path]:
    """The Makefile and the script in a folder `nobody` can read (the clone may be private)."""
    folder = Path(tempfile.mkdtemp(prefix="machine-ready-", dir="/tmp"))
    try:
        (folder / "tools").mkdir()
        shutil.copy(ROOT / "Makefile", folder / "Makefile")
        shutil.copy(SCRIPT, folder / "tools" / SCRIPT.name)
        for path in (folder, folder / "tools"):
            path.chmod(0o755)
        yield folder
    finally:
        shutil.rmtree(folder)


def _as_nobody(
    command: list[str], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    setpriv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    return subprocess.run(
        [
            *setpriv,
            "env",
            f"PATH={os.environ['PATH']}",
            *(f"{k}={v}" for k, v in env.items()),
            *command,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
    )


@needs_root
def test_not_root_changes_nothing_and_names_each_command_within_five_seconds(
    nobodys_copy: Path,
) -> None:
    started = time.monotonic()
    script = nobodys_copy / "tools" / SCRIPT.name
    result = _as_nobody(["bash", str(script)], _nothing_running_env(), nobodys_copy)
    elapsed = time.monotonic() - started
    assert result.returncode == 1
    assert elapsed < 5, elapsed
    for command in (START_POSTGRES, START_RABBITMQ, START_REDIS, INSTALL_NGINX):
        assert command in result.stderr, command
    assert "only root can fix it" in result.stderr


@needs_root
@pytest.mark.parametrize("target", ["test", "run"])
def test_make_as_not_root_stops_before_anything_else_within_five_seconds(
    target: str, nobodys_copy: Path
) -> None:
    env = {**_nothing_running_env(), "DEPS_POSTGRES_PORT": "5432"}  # only the rest is missing
    started = time.monotonic()
    result = _as_nobody(["make", "--no-print-directory", target], env, nobodys_copy)
    elapsed = time.monotonic() - started
    assert result.returncode != 0
    assert elapsed < 5, elapsed
    assert START_RABBITMQ in result.stderr and INSTALL_NGINX in result.stderr
    assert START_POSTGRES not in result.stderr  # what is up is not reported
    assert "pytest" not in result.stdout + result.stderr  # no test was started


@needs_root
def test_as_root_with_everything_up_it_is_quick_and_silent() -> None:
    started = time.monotonic()
    result = subprocess.run(
        ["bash", str(SCRIPT)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 5
    assert result.stderr == ""


@needs_root
@pytest.mark.skipif(shutil.which("apt-get") is None, reason="needs Debian's apt-get")
def test_as_root_a_missing_nginx_is_installed_and_debians_default_server_is_not_left_on() -> None:
    """The install path for real (apt-get update, install nginx-light; already there is fine)."""
    env = {**os.environ, "DEPS_NGINX": "/nonexistent/nginx"}
    result = subprocess.run(
        ["bash", str(SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    assert "nginx is not installed: " + INSTALL_NGINX in result.stderr
    assert shutil.which("nginx", path=os.environ["PATH"] + ":/usr/sbin") is not None
    with socket.socket() as probe:
        probe.settimeout(1)
        assert probe.connect_ex(("127.0.0.1", 80)) != 0, "Debian's default nginx is on :80"


def test_ci_runs_the_readme_commands_and_nothing_else() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    allowed = ("set ", "cd ", "export ")
    extra = [line for line in lines if not line.startswith(allowed)]
    assert extra == ["make lint", "make test"]
    readme = (ROOT / "README.md").read_text()
    assert "make lint" in readme and "make test" in readme


def test_the_script_is_what_the_make_targets_run() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "bash tools/ensure-dependencies.sh" in makefile
    for target in ("run", "up", "test"):
        assert f"\n{target}: deps install\n" in makefile, target
    assert Path(SCRIPT).is_file()
