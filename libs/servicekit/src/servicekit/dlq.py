"""Dead letters for operators: `python -m servicekit.dlq list|show|replay|drop [QUEUE]`.

Each consumer queue of `ticketing_contracts.CONSUMER_QUEUES` has a dead-letter queue
(`<queue>.dlq`) where a message lands, with its error in `x-error`, once its consumer gave up on it
(see `servicekit.messaging.consumer`). QUEUE may be the consumer queue or its `.dlq`.

- `list`: how many dead letters each dead-letter queue holds.
- `show QUEUE`: each dead letter with its event id, type, error, consumer and time; none is taken.
- `replay QUEUE`: publishes each dead letter again to the events exchange with its original
  routing key, so it reaches its consumer through the inbox like any event: one that had its
  effect already is dropped there, never applied twice. A dead letter leaves the dead-letter
  queue only after the broker confirmed its republish; one it cannot route stays where it is.
- `drop QUEUE --yes`: deletes them (without `--yes` it only says what it would delete).

`--event-id ID` (repeatable) limits show/replay/drop to those events; `--limit N` to the first N.
The broker is `AMQP_URL` (as for the services; `amqp://guest:guest@127.0.0.1:5672/` by default)
or `--amqp-url`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractExchange,
    AbstractIncomingMessage,
)
from ticketing_contracts import CONSUMER_QUEUES, EXCHANGE, QueueBinding

from servicekit.messaging.consumer import copy_with_headers

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
# Headers the consumer or the broker added when the message failed; a replay starts afresh.
_FAILURE_HEADERS = (
    "x-error",
    "x-failed-consumer",
    "x-failed-at",
    "x-original-routing-key",
    "x-death",
    "x-first-death-exchange",
    "x-first-death-queue",
    "x-first-death-reason",
    "x-last-death-exchange",
    "x-last-death-queue",
    "x-last-death-reason",
    "x-delivery-count",
)


class DeadLetterError(RuntimeError):
    """An operator error: unknown queue, or a replay the broker would not confirm."""


@dataclass(frozen=True)
class DeadLetter:
    event_id: str
    event_type: str
    routing_key: str
    exchange: str
    error: str
    failed_consumer: str
    failed_at: str
    body: bytes

    def describe(self) -> dict[str, Any]:
        try:
            body: Any = json.loads(self.body)
        except ValueError:
            body = self.body.decode(errors="replace")
        return {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "routing_key": self.routing_key,
            "error": self.error,
            "failed_consumer": self.failed_consumer,
            "failed_at": self.failed_at,
            "body": body,
        }


@dataclass
class Outcome:
    done: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def binding_for(name: str) -> QueueBinding:
    for binding in CONSUMER_QUEUES:
        if name in (binding.queue, binding.dead_letter_queue):
            return binding
    known = ", ".join(b.queue for b in CONSUMER_QUEUES)
    raise DeadLetterError(f"unknown queue {name!r}; the consumer queues are: {known}")


def dead_letter_of(message: AbstractIncomingMessage) -> DeadLetter:
    headers = message.headers or {}
    deaths = headers.get("x-death")
    first = deaths[0] if isinstance(deaths, list) and deaths else None
    death: dict[str, Any] = dict(first) if isinstance(first, dict) else {}
    death_keys = death.get("routing-keys") or []
    routing_key = _text(headers.get("x-original-routing-key")) or (
        _text(death_keys[0]) if death_keys else ""
    )
    return DeadLetter(
        event_id=message.message_id or "",
        event_type=message.type or "",
        routing_key=routing_key or message.type or "",
        exchange=_text(death.get("exchange")) or EXCHANGE,
        error=_text(headers.get("x-error")) or _text(death.get("reason")) or "",
        failed_consumer=_text(headers.get("x-failed-consumer")) or _text(death.get("queue")),
        failed_at=_text(headers.get("x-failed-at")),
        body=message.body,
    )


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return str(value)


async def counts(connection: AbstractConnection) -> list[tuple[str, int]]:
    """(dead-letter queue, how many messages it holds), for every consumer queue."""
    result = []
    async with connection.channel() as channel:
        for binding in CONSUMER_QUEUES:
            queue = await channel.declare_queue(binding.dead_letter_queue, passive=True)
            result.append((binding.dead_letter_queue, queue.declaration_result.message_count or 0))
    return result


async def _take(
    channel: AbstractChannel, binding: QueueBinding, event_ids: Sequence[str], limit: int | None
) -> tuple[list[AbstractIncomingMessage], list[AbstractIncomingMessage]]:
    """Every message of the DLQ, unacked (so none comes twice): (chosen, the others)."""
    queue = await channel.get_queue(binding.dead_letter_queue, ensure=True)
    chosen: list[AbstractIncomingMessage] = []
    others: list[AbstractIncomingMessage] = []
    while limit is None or len(chosen) < limit:
        message = await queue.get(no_ack=False, fail=False, timeout=10)
        if message is None:
            break
        if event_ids and (message.message_id or "") not in event_ids:
            others.append(message)
        else:
            chosen.append(message)
    return chosen, others


async def _put_back(messages: Sequence[AbstractIncomingMessage]) -> None:
    for message in messages:
        await message.nack(requeue=True)


async def show(
    connection: AbstractConnection,
    queue: str,
    *,
    event_ids: Sequence[str] = (),
    limit: int | None = None,
) -> list[DeadLetter]:
    """The dead letters, left in their queue."""
    binding = binding_for(queue)
    async with connection.channel() as channel:
        chosen, others = await _take(channel, binding, event_ids, limit)
        await _put_back([*chosen, *others])
    return [dead_letter_of(message) for message in chosen]


async def replay(
    connection: AbstractConnection,
    queue: str,
    *,
    event_ids: Sequence[str] = (),
    limit: int | None = None,
) -> Outcome:
    """Republish each dead letter with its original routing key; ack it once that is confirmed."""
    binding = binding_for(queue)
    outcome = Outcome()
    async with connection.channel(publisher_confirms=True, on_return_raises=True) as channel:
        exchanges: dict[str, AbstractExchange] = {}
        chosen, others = await _take(channel, binding, event_ids, limit)
        try:
            for message in chosen:
                letter = dead_letter_of(message)
                if letter.exchange not in exchanges:
                    exchanges[letter.exchange] = await channel.get_exchange(
                        letter.exchange, ensure=False
                    )
                try:
                    await exchanges[letter.exchange].publish(
                        _republished(message),
                        routing_key=letter.routing_key,
                        mandatory=True,
                        timeout=10,
                    )
                except Exception as exc:
                    outcome.kept.append(f"{letter.event_id}: {type(exc).__name__}: {exc}")
                    await message.nack(requeue=True)
                    continue
                await message.ack()
                outcome.done.append(letter.event_id)
        finally:
            await _put_back([m for m in chosen if not m.processed] + others)
    return outcome


def _republished(message: AbstractIncomingMessage) -> aio_pika.Message:
    headers = {k: v for k, v in (message.headers or {}).items() if k not in _FAILURE_HEADERS}
    headers["x-replayed-at"] = datetime.now(UTC).isoformat()
    return copy_with_headers(message, headers)


async def drop(
    connection: AbstractConnection,
    queue: str,
    *,
    event_ids: Sequence[str] = (),
    limit: int | None = None,
) -> Outcome:
    """Delete the chosen dead letters for good."""
    binding = binding_for(queue)
    outcome = Outcome()
    async with connection.channel() as channel:
        chosen, others = await _take(channel, binding, event_ids, limit)
        try:
            for message in chosen:
                await message.ack()
                outcome.done.append(message.message_id or "")
        finally:
            await _put_back([m for m in chosen if not m.processed] + others)
    return outcome


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m servicekit.dlq",
        description="Inspect, replay or drop dead-lettered events.",
        epilog=f"queues: {', '.join(b.queue for b in CONSUMER_QUEUES)} (or their .dlq names)",
    )
    parser.add_argument(
        "--amqp-url", default=os.environ.get("AMQP_URL", DEFAULT_AMQP_URL), help="the broker"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="how many dead letters each dead-letter queue holds")
    for name, text in (
        ("show", "print the dead letters with their errors (they stay)"),
        ("replay", "publish them again through their consumer's inbox"),
        ("drop", "delete them (needs --yes)"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("queue", help="a consumer queue or its .dlq")
        command.add_argument("--event-id", action="append", default=[], help="only this event")
        command.add_argument("--limit", type=int, default=None, help="at most this many")
        if name == "drop":
            command.add_argument("--yes", action="store_true", help="really delete them")
        if name == "show":
            command.add_argument("--json", action="store_true", help="one JSON object a line")
    return parser


async def run(argv: Sequence[str], out: TextIO = sys.stdout) -> int:
    args = _parser().parse_args(argv)
    connection = await aio_pika.connect(args.amqp_url, timeout=10)
    try:
        return await _dispatch(connection, args, out)
    finally:
        await connection.close()


async def _dispatch(connection: AbstractConnection, args: argparse.Namespace, out: TextIO) -> int:
    if args.command == "list":
        for name, count in await counts(connection):
            print(f"{count:>8}  {name}", file=out)
        return 0
    options = {"event_ids": args.event_id, "limit": args.limit}
    if args.command == "show":
        letters = await show(connection, args.queue, **options)
        for letter in letters:
            if args.json:
                print(json.dumps(letter.describe()), file=out)
            else:
                _print_letter(letter, out)
        if not args.json:
            dlq = binding_for(args.queue).dead_letter_queue
            print(f"{len(letters)} dead letter(s) in {dlq}", file=out)
        return 0
    if args.command == "drop" and not args.yes:
        letters = await show(connection, args.queue, **options)
        print(
            f"would drop {len(letters)} dead letter(s): "
            f"{', '.join(letter.event_id for letter in letters) or '-'}; add --yes to drop them",
            file=out,
        )
        return 2
    action = replay if args.command == "replay" else drop
    outcome = await action(connection, args.queue, **options)
    verb = "replayed" if args.command == "replay" else "dropped"
    print(f"{verb} {len(outcome.done)}: {', '.join(outcome.done) or '-'}", file=out)
    for reason in outcome.kept:
        print(f"kept (not confirmed by the broker) {reason}", file=out)
    return 1 if outcome.kept else 0


def _print_letter(letter: DeadLetter, out: TextIO) -> None:
    print(
        f"event {letter.event_id}  {letter.event_type}  (routing key {letter.routing_key})",
        file=out,
    )
    print(f"  failed in {letter.failed_consumer or '?'} at {letter.failed_at or '?'}", file=out)
    print(f"  x-error: {letter.error or '-'}", file=out)
    print(f"  body: {letter.body.decode(errors='replace')[:2000]}", file=out)


def main(argv: Sequence[str] | None = None) -> None:
    try:
        code = asyncio.run(run(sys.argv[1:] if argv is None else argv))
    except DeadLetterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = 2
    raise SystemExit(code)


if __name__ == "__main__":
    main()
