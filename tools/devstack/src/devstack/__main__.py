"""Command line: python -m devstack run|up|down|status|token|sync-k8s (make run/up/down/token)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from devstack.config import StackConfig
from devstack.manifests import sync_gateway_configmap
from devstack.preflight import PreflightFailed
from devstack.provision import ProvisionError
from devstack.stack import Stack, StackError
from devstack.token import make_token


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument(
        "--run-dir", type=Path, help="logs, pidfiles and nginx files (default: <repo>/.run)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("run", "start the stack in the foreground; Ctrl-C stops it"),
        ("up", "start the stack in the background and return once it is ready"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument(
            "--only", help="comma-separated process names (default: every installed one)"
        )
        command.add_argument(
            "--timeout", type=float, default=60.0, help="seconds to wait for readiness"
        )
    commands.add_parser("down", help="stop every process the stack started")
    commands.add_parser("status", help="list the running processes of the stack")
    commands.add_parser(
        "sync-k8s", help="rewrite deploy/k8s/gateway-configmap.yaml from the template"
    )
    token = commands.add_parser("token", help="print a development JWT the services accept")
    token.add_argument("--sub", required=True, help="user id (the JWT sub)")
    token.add_argument("--roles", default="user", help="comma-separated roles from user,host,admin")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config = StackConfig.development(args.run_dir)
    try:
        return _dispatch(args, config)
    except (PreflightFailed, ProvisionError, StackError, ValueError) as exc:
        print(f"devstack: {exc}", file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace, config: StackConfig) -> int:
    if args.command == "token":
        print(make_token(config, args.sub, args.roles.split(",")))
        return 0
    if args.command == "sync-k8s":
        print(f"wrote {sync_gateway_configmap(config.repo_root)}")
        return 0
    if args.command in ("run", "up"):
        only = (
            [name.strip() for name in args.only.split(",") if name.strip()] if args.only else None
        )
        stack = Stack(config.with_changes(ready_timeout=args.timeout), only=only)
        if args.command == "run":
            return stack.run_foreground()
        specs = stack.up()
        stack.print_summary(specs, print)
        print("stack is up; stop it with `make down`")
        return 0
    stack = Stack(config)
    if args.command == "down":
        stopped = stack.stop()
        print(f"stopped {', '.join(stopped)}" if stopped else "nothing was running")
        return 0
    records = stack.running()
    for record in records:
        print(f"{record.name:<22} pid {record.pid}   log: {stack.log_path(record.name)}")
    if not records:
        print("nothing is running")
    return 0


if __name__ == "__main__":
    sys.exit(main())
