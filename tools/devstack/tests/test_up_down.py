"""`up` returns once everything is ready and `down` leaves no process behind."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from devstack.config import StackConfig
from devstack.processes import group_members
from devstack.stack import Stack, module_exists


def test_up_then_down_leaves_no_process(tmp_path: Path) -> None:
    only = ["gateway"] + (["midtrans-sandbox"] if module_exists("midtrans_sandbox") else [])
    config = StackConfig.isolated(tmp_path, label="updown_test").with_changes(ready_timeout=20.0)
    stack = Stack(config, only=only, log=lambda line: None)
    specs = stack.up()
    assert sorted(spec.name for spec in specs) == sorted(only)
    records = stack.running()
    assert sorted(record.name for record in records) == sorted(only)
    for spec in specs:
        assert httpx.get(spec.ready_url(config.host), timeout=5, trust_env=False).status_code == 200

    # A second Stack object, as `make down` in another process would build it.
    stopped = Stack(config, log=lambda line: None).stop()

    assert sorted(stopped) == sorted(only)
    assert all(group_members(record.pid) == [] for record in records)
    assert not any(Path(config.pids_dir).glob("*.pid"))
    for record in records:
        assert not os.path.exists(f"/proc/{record.pid}") or _is_zombie(record.pid)


def test_down_with_nothing_running_is_fine(tmp_path: Path) -> None:
    config = StackConfig.isolated(tmp_path, label="updown_test")
    assert Stack(config).stop() == []


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2] == "Z"
