"""Pre-flight checks name the dependency that is down, say how to start it, and do not hang."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from devstack.config import StackConfig, free_port
from devstack.preflight import PreflightFailed, check, require
from devstack.stack import Stack


def _config(tmp_path: Path) -> StackConfig:
    closed = free_port()
    return StackConfig.isolated(tmp_path, label="preflight_test").with_changes(
        postgres_port=closed, rabbitmq_port=closed, redis_port=closed
    )


def test_each_down_dependency_is_named_with_its_start_command_quickly(tmp_path: Path) -> None:
    config = _config(tmp_path)
    started = time.monotonic()
    problems = check(config, ["postgres", "rabbitmq", "redis"])
    assert time.monotonic() - started < 3
    text = "\n".join(str(problem) for problem in problems)
    assert [problem.dependency for problem in problems] == ["postgres", "rabbitmq", "redis"]
    assert f"PostgreSQL is not reachable at 127.0.0.1:{config.postgres_port}" in text
    assert "pg_ctlcluster --skip-systemctl-redirect" in text
    assert "rabbitmq-server -detached" in text
    assert "redis-server --daemonize yes" in text


def test_reachable_dependencies_are_no_problem(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        config = StackConfig.isolated(tmp_path, label="preflight_test").with_changes(
            redis_port=port
        )
        assert check(config, ["redis"]) == []


def test_a_taken_port_is_reported(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        config = StackConfig.isolated(tmp_path, label="preflight_test")
        with pytest.raises(
            PreflightFailed, match=f"port 127.0.0.1:{port} for gateway is already in use"
        ):
            require(config, [], [("gateway", port)])


def test_stack_up_refuses_before_starting_anything(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        taken = listener.getsockname()[1]
        config = _config(tmp_path).with_changes(gateway_port=taken)
        stack = Stack(config, only=["gateway"], log=lambda line: None)
        with pytest.raises(PreflightFailed, match="already in use"):
            stack.up()
    assert stack.running() == []


def test_a_process_refused_by_preflight_ends_quickly_with_the_reason(tmp_path: Path) -> None:
    closed = free_port()
    script = (
        "from devstack.config import StackConfig\n"
        "from devstack.preflight import require\n"
        f"c = StackConfig.development().with_changes(postgres_port={closed})\n"
        "require(c, ['postgres'])\n"
    )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
    )
    assert time.monotonic() - started < 10
    assert result.returncode != 0
    assert f"PostgreSQL is not reachable at 127.0.0.1:{closed}" in result.stderr
