"""CPU time and memory of the stack's processes, from /proc (utime + stime, VmRSS).

A service started with several workers is a process group: its CPU is the sum over the group,
its RSS is reported per process (the largest one), which is what the 150 MB budget is about.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from devstack.processes import group_members, read_pidfiles

_TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def cpu_ms(pid: int) -> float:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) * _TICK_MS  # utime, stime (fields 14, 15)


def rss_mib(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass(frozen=True)
class Sample:
    cpu_ms: dict[str, float]
    rss_mib: dict[str, float]


SERVERS = {"postgres": "(postgresql)", "beam.smp": "(rabbitmq)", "redis-server": "(redis)"}
"""The machine's shared servers by process name, counted with `servers=True`: every process of
that name (all of PostgreSQL's backends, say), so anything else using them is counted too."""


class ProcessWatch:
    """The named process groups of a run dir (devstack pidfiles) plus extra pids (the bench)."""

    def __init__(
        self, pids_dir: Path, extra: dict[str, int] | None = None, *, servers: bool = False
    ) -> None:
        self.pids_dir = pids_dir
        self.extra = dict(extra or {})
        self.servers = servers

    def groups(self) -> dict[str, list[int]]:
        found = {
            record.name: group_members(record.pid) or [record.pid]
            for record in read_pidfiles(self.pids_dir)
        }
        found.update({name: [pid] for name, pid in self.extra.items()})
        if self.servers:
            for pid, name in _named_processes():
                if name in SERVERS:
                    found.setdefault(SERVERS[name], []).append(pid)
        return found

    def sample(self) -> Sample:
        groups = self.groups()
        return Sample(
            cpu_ms={name: sum(cpu_ms(pid) for pid in pids) for name, pids in groups.items()},
            rss_mib={
                name: max(rss_mib(pid) for pid in pids)
                for name, pids in groups.items()
                if name not in SERVERS.values()  # the budget is about our own processes
            },
        )


def _named_processes() -> list[tuple[int, str]]:
    named = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                named.append((int(entry.name), (entry / "comm").read_text().strip()))
            except OSError:
                continue  # ended meanwhile
    return named


def cpu_per_operation(before: Sample, after: Sample, operations: int) -> dict[str, float]:
    """CPU milliseconds per operation per process group, between two samples."""
    return {
        name: round((after.cpu_ms[name] - before.cpu_ms.get(name, 0.0)) / max(operations, 1), 2)
        for name in after.cpu_ms
    }
