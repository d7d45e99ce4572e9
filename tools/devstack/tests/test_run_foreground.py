"""`run` streams the logs, prefixed, and Ctrl-C (SIGINT) or SIGTERM stops everything it started."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from devstack.processes import group_members, read_pidfiles

SCRIPT = """
import sys
from pathlib import Path
from devstack.config import StackConfig
from devstack.stack import Stack
config = StackConfig.isolated(Path(sys.argv[1]), label="run_test")
print("GATEWAY", config.gateway_url, flush=True)
sys.exit(Stack(config, only=["gateway"]).run_foreground())
"""


def _wait_for_line(proc: subprocess.Popen[str], needle: str, timeout: float = 20) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if needle in line:
            return lines
    raise AssertionError(f"{needle!r} never printed; got {lines}")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_run_stops_everything_on_signal(tmp_path: Path, sig: signal.Signals) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = _wait_for_line(proc, "press Ctrl-C")
        gateway_url = next(line.split()[1] for line in lines if line.startswith("GATEWAY"))
        records = read_pidfiles(tmp_path / "pids")
        assert [record.name for record in records] == ["gateway"]
        httpx.get(gateway_url + "/tickets/1", timeout=5, trust_env=False)  # one access log line
        _wait_for_line(proc, "gateway | ")
        proc.send_signal(sig)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert all(group_members(record.pid) == [] for record in records)
    assert read_pidfiles(tmp_path / "pids") == []
