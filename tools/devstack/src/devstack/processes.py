"""Start processes in their own process groups with pidfiles, and stop process groups for good."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PidRecord:
    """A started process: pid (= its process group id) and start time, to notice a reused pid."""

    name: str
    pid: int
    start_ticks: int | None

    def is_ours(self) -> bool:
        ticks = start_ticks(self.pid)
        if ticks is None:
            return False
        return self.start_ticks is None or ticks == self.start_ticks


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its closing one.
    return raw[raw.rindex(")") + 2 :].split()


def start_ticks(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None  # field 22 of stat, counted after the command name


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in a process group."""
    members: list[int] = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        entries = []
    for entry in entries:
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        if fields and fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry))
    return members


def write_pidfile(pids_dir: Path, name: str, pid: int) -> PidRecord:
    pids_dir.mkdir(parents=True, exist_ok=True)
    record = PidRecord(name, pid, start_ticks(pid))
    (pids_dir / f"{name}.pid").write_text(f"{pid} {record.start_ticks or ''}\n")
    return record


def read_pidfiles(pids_dir: Path) -> list[PidRecord]:
    records: list[PidRecord] = []
    if not pids_dir.is_dir():
        return records
    for path in sorted(pids_dir.glob("*.pid")):
        parts = path.read_text().split()
        if not parts or not parts[0].isdigit():
            path.unlink(missing_ok=True)
            continue
        ticks = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        records.append(PidRecord(path.stem, int(parts[0]), ticks))
    return records


def remove_pidfile(pids_dir: Path, name: str) -> None:
    (pids_dir / f"{name}.pid").unlink(missing_ok=True)


def spawn(
    argv: tuple[str, ...], *, env: dict[str, str], cwd: Path, log_path: Path
) -> subprocess.Popen[bytes]:
    """Start argv as the leader of a new session, output appended to log_path."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_bytes(b"")
    # Append mode: nginx reopens /dev/stdout itself, and every writer must land at the end.
    with log_path.open("ab") as log:
        return subprocess.Popen(  # noqa: S603 - argv comes from StackConfig
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _still_ours(record: PidRecord) -> bool:
    """The leader is ours, or it is gone but left members behind; a reused pid is not ours."""
    if start_ticks(record.pid) is None:
        return bool(group_members(record.pid))
    return record.is_ours()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def stop_groups(
    records: list[PidRecord],
    *,
    grace: float = 10.0,
    reap: list[subprocess.Popen[bytes]] | None = None,
) -> list[int]:
    """SIGTERM every group, wait up to grace seconds, SIGKILL the rest; return pids still alive."""
    groups = [record.pid for record in records if _still_ours(record)]
    for pgid in groups:
        _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    remaining = groups
    while remaining and time.monotonic() < deadline:
        for proc in reap or []:
            proc.poll()  # our own children stay zombies (and in their group) until reaped
        remaining = [pgid for pgid in remaining if group_members(pgid)]
        if remaining:
            time.sleep(0.05)
    for pgid in remaining:
        _signal_group(pgid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    left = [pid for pgid in remaining for pid in group_members(pgid)]
    while left and time.monotonic() < deadline:
        for proc in reap or []:
            proc.poll()
        time.sleep(0.05)
        left = [pid for pgid in remaining for pid in group_members(pgid)]
    return left
