"""Fixtures for devstack's tests: recording upstreams and a real nginx gateway in front of them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from devstack.config import StackConfig
from devstack.stack import Stack
from devstack.testing import RecordingUpstream, start_upstream


@pytest.fixture(scope="module")
def upstreams() -> Iterator[dict[str, RecordingUpstream]]:
    servers = {name: start_upstream(name) for name in ("ticket", "payment", "notification")}
    yield servers
    for upstream in servers.values():
        upstream.close()


@pytest.fixture(scope="module")
def gateway(
    upstreams: dict[str, RecordingUpstream], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StackConfig]:
    """nginx from the rendered template, started by devstack, routing to the upstream servers."""
    if shutil.which("nginx") is None:
        pytest.fail("nginx is not installed: apt-get install -y nginx-light")
    run_dir = Path(tmp_path_factory.mktemp("gateway-run"))
    config = StackConfig.isolated(run_dir, label="devstack_test").with_changes(
        ticket_port=upstreams["ticket"].port,
        payment_port=upstreams["payment"].port,
        notification_port=upstreams["notification"].port,
        ready_timeout=15.0,
    )
    stack = Stack(config, only=["gateway"], log=lambda line: None)
    stack.up()
    try:
        yield config
    finally:
        stack.stop()
