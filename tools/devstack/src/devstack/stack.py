"""Bring the local stack up (foreground or background), wait until it is ready, take it down."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType

import httpx

from devstack import gateway, preflight, processes, provision
from devstack.config import GATEWAY, ProcessSpec, StackConfig

Log = Callable[[str], None]
POLL_INTERVAL = 0.1
LOG_TAIL_LINES = 40


class StackError(RuntimeError):
    """The stack could not be brought up; the message says which part and shows its log."""


def _stderr_log(line: str) -> None:
    print(f"devstack | {line}", file=sys.stderr, flush=True)


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    tail = text.splitlines()[-lines:]
    return "\n".join(tail) if tail else "(log is empty)"


def module_exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


class Stack:
    """The processes of a StackConfig chosen by `only` (default: all) whose package is installed."""

    def __init__(
        self, config: StackConfig, *, only: Iterable[str] | None = None, log: Log = _stderr_log
    ) -> None:
        self.config = config
        self.only = set(only) if only is not None else None
        self.log = log
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._skipped: dict[str, str] = {}
        known = {spec.name for spec in config.processes()}
        unknown = (self.only or set()) - known
        if unknown:
            raise StackError(
                f"unknown process(es) {', '.join(sorted(unknown))};"
                f" known: {', '.join(sorted(known))}"
            )

    # --- what runs ------------------------------------------------------------------------------

    def selected(self) -> list[ProcessSpec]:
        """The chosen processes that can run here; absent packages are skipped (and remembered)."""
        chosen: list[ProcessSpec] = []
        self._skipped = {}
        for spec in self.config.processes():
            if self.only is not None and spec.name not in self.only:
                continue
            if spec.module is not None and not module_exists(spec.module):
                self._skipped[spec.name] = spec.module
                continue
            chosen.append(spec)
        return chosen

    @property
    def skipped(self) -> dict[str, str]:
        """Process name -> the missing import package, for the last `selected()`."""
        return dict(self._skipped)

    def log_path(self, name: str) -> Path:
        return self.config.logs_dir / f"{name}.log"

    def _tail(self, name: str) -> str:
        return f"{self.log_path(name)}:\n{log_tail(self.log_path(name))}"

    def running(self) -> list[processes.PidRecord]:
        return [
            record for record in processes.read_pidfiles(self.config.pids_dir) if record.is_ours()
        ]

    # --- up -------------------------------------------------------------------------------------

    def up(self) -> list[ProcessSpec]:
        """Start all, return once each answers its readiness URL; on failure stop it all."""
        started_at = time.monotonic()
        already = self.running()
        if already:
            names = ", ".join(f"{record.name} (pid {record.pid})" for record in already)
            raise StackError(
                f"a stack is already running from {self.config.run_dir}: {names};"
                " stop it with `make down`"
            )
        specs = self.selected()
        for name, module in self._skipped.items():
            self.log(f"skipping {name}: python package {module!r} is not installed in this venv")
        if not specs:
            raise StackError("nothing to start: none of the chosen processes is installed")
        self._prepare(specs)
        try:
            for spec in specs:
                self._start(spec)
            self._wait_ready(specs)
        except BaseException:
            self.stop()
            raise
        self.log(f"ready in {time.monotonic() - started_at:.1f} s")
        return specs

    def _prepare(self, specs: list[ProcessSpec]) -> None:
        config = self.config
        needs = sorted({need for spec in specs for need in spec.needs})
        ports = [(spec.name, spec.port) for spec in specs]
        if any(spec.name == "mail-sink" for spec in specs):
            ports.append(("mail-sink (SMTP)", config.mail_smtp_port))
        preflight.require(config, needs, ports)
        for folder in (config.logs_dir, config.pids_dir):
            folder.mkdir(parents=True, exist_ok=True)
        databases = [spec.database for spec in specs if spec.database]
        created = provision.ensure_databases(config, databases, fresh=config.fresh_state)
        if created:
            self.log(f"created database(s): {', '.join(created)}")
        if "rabbitmq" in needs:
            provision.ensure_vhost(config, fresh=config.fresh_state)
        if "redis" in needs and config.fresh_state:
            provision.flush_redis_db(config)
        if any(spec.name == GATEWAY for spec in specs):
            gateway.check_config(config)

    def _start(self, spec: ProcessSpec) -> None:
        env = {**os.environ, **spec.env, "PYTHONUNBUFFERED": "1"}
        proc = processes.spawn(
            spec.argv, env=env, cwd=self.config.repo_root, log_path=self.log_path(spec.name)
        )
        self._children[spec.name] = proc
        processes.write_pidfile(self.config.pids_dir, spec.name, proc.pid)
        self.log(f"started {spec.name} (pid {proc.pid}) on {spec.ready_url(self.config.host)}")

    def _wait_ready(self, specs: list[ProcessSpec]) -> None:
        deadline = time.monotonic() + self.config.ready_timeout
        pending = {spec.name: spec for spec in specs}
        with httpx.Client(timeout=1.0, trust_env=False) as client:
            while pending:
                for name, spec in list(pending.items()):
                    proc = self._children.get(name)
                    if proc is not None and proc.poll() is not None:
                        raise StackError(
                            f"{name} exited with code {proc.returncode} before it was ready;"
                            f" last lines of {self._tail(name)}"
                        )
                    if _answers_ok(client, spec.ready_url(self.config.host)):
                        self.log(f"{name} is ready")
                        del pending[name]
                if not pending:
                    break
                if time.monotonic() > deadline:
                    details = "\n".join(
                        f"--- {name}: {spec.ready_url(self.config.host)} never answered 200;"
                        f" last lines of {self._tail(name)}"
                        for name, spec in pending.items()
                    )
                    raise StackError(
                        f"not ready after {self.config.ready_timeout:g} s:"
                        f" {', '.join(pending)}\n{details}"
                    )
                time.sleep(POLL_INTERVAL)

    # --- down -----------------------------------------------------------------------------------

    def stop(self, *, grace: float = 10.0) -> list[str]:
        """Stop every process with a pidfile in the run dir (gateway first); return their names."""
        records = processes.read_pidfiles(self.config.pids_dir)
        order = {spec.name: index for index, spec in enumerate(self.config.processes())}
        records.sort(key=lambda record: -order.get(record.name, len(order)))
        left = processes.stop_groups(records, grace=grace, reap=list(self._children.values()))
        for proc in self._children.values():
            proc.poll()
        if left:
            raise StackError(f"processes survived SIGKILL: {left}")
        for record in records:
            processes.remove_pidfile(self.config.pids_dir, record.name)
        self._children.clear()
        return [record.name for record in records]

    # --- run (foreground) -----------------------------------------------------------------------

    def run_foreground(self, out: Callable[[str], None] | None = None) -> int:
        """up, then stream the logs, prefixed, until Ctrl-C or a process dies; then stop all."""
        write = out or (lambda text: print(text, flush=True))

        def on_signal(signum: int, frame: FrameType | None) -> None:
            raise KeyboardInterrupt  # SIGTERM stops the stack the same way Ctrl-C does

        # SIGINT too: a shell starts background jobs with SIGINT ignored, and Python keeps that.
        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        followers: list[_LogFollower] = []
        try:
            specs = self.up()
            self.print_summary(specs, write)
            write("stack is running; press Ctrl-C to stop it")
            width = max(len(spec.name) for spec in specs)
            followers.extend(
                _LogFollower(self.log_path(spec.name), spec.name.ljust(width)) for spec in specs
            )
            return self._follow(followers, write)
        except KeyboardInterrupt:
            self.log("stopping")
            return 0
        finally:
            # A second Ctrl-C must not cut the cleanup short and leave processes behind.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            stopped = self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            _write_new_lines(followers, write)  # what the processes said while shutting down
            if stopped:
                self.log(f"stopped {', '.join(stopped)}")

    def _follow(self, followers: list[_LogFollower], write: Callable[[str], None]) -> int:
        while True:
            _write_new_lines(followers, write)
            died = [name for name, proc in self._children.items() if proc.poll() is not None]
            if died:
                _write_new_lines(followers, write)
                for name in died:
                    write(
                        f"devstack | {name} exited with code"
                        f" {self._children[name].returncode}; stopping the stack"
                    )
                return 1
            time.sleep(0.2)

    def print_summary(self, specs: list[ProcessSpec], write: Callable[[str], None]) -> None:
        for spec in specs:
            write(
                f"  {spec.name:<22} {spec.ready_url(self.config.host)}"
                f"   log: {self.log_path(spec.name)}"
            )
        if any(spec.name == GATEWAY for spec in specs):
            write(f"  gateway: {self.config.gateway_url}")


def _answers_ok(client: httpx.Client, url: str) -> bool:
    try:
        return client.get(url).status_code == 200
    except httpx.HTTPError:
        return False


def _write_new_lines(followers: list[_LogFollower], write: Callable[[str], None]) -> None:
    for follower in followers:
        for line in follower.new_lines():
            write(line)


class _LogFollower:
    """Reads what was appended to a log file since the last call, as prefixed lines."""

    def __init__(self, path: Path, prefix: str) -> None:
        self.path = path
        self.prefix = prefix
        self.offset = 0
        self.partial = b""

    def new_lines(self) -> list[str]:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except OSError:
            return []
        self.offset += len(chunk)
        data = self.partial + chunk
        *complete, self.partial = data.split(b"\n")
        return [f"{self.prefix} | {line.decode(errors='replace')}" for line in complete]
