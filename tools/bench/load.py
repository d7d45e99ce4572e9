"""A lean HTTP/1.1 load generator: N keep-alive connections sharing one queue of requests.

httpx spends about a millisecond of CPU per request; on a 2-core machine the load generator
shares the cores with the stack, so it is kept to raw asyncio streams (and uvloop when present)
to leave the cores to what is measured.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""

    @classmethod
    def post_json(cls, path: str, payload: object, headers: dict[str, str] | None = None) -> Call:
        return cls.with_json("POST", path, payload, headers)

    @classmethod
    def with_json(
        cls, method: str, path: str, payload: object, headers: dict[str, str] | None = None
    ) -> Call:
        return cls(method, path, dict(headers or {}), json.dumps(payload).encode())


@dataclass(frozen=True)
class Answer:
    call: Call
    status: int
    body: bytes
    started: float  # perf_counter seconds
    finished: float

    @property
    def ms(self) -> float:
        return (self.finished - self.started) * 1000

    def json(self) -> Any:
        return json.loads(self.body)


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def send(self, call: Call) -> tuple[int, bytes]:
        for attempt in (1, 2):
            if self._writer is None:
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            try:
                return await self._exchange(call)
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _exchange(self, call: Call) -> tuple[int, bytes]:
        assert self._reader is not None
        assert self._writer is not None
        head = [f"{call.method} {call.path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += [f"{name}: {value}" for name, value in call.headers.items()]
        if call.body:
            head += ["Content-Type: application/json", f"Content-Length: {len(call.body)}"]
        self._writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + call.body)
        raw = await self._reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._read_chunked()
        else:
            body = await self._reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, body

    async def _read_chunked(self) -> bytes:
        assert self._reader is not None
        parts = []
        while True:
            size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self._reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self._reader.readexactly(size))
            await self._reader.readexactly(2)

    async def close(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()


async def run_calls(host: str, port: int, calls: list[Call], connections: int) -> list[Answer]:
    """Send every call once over `connections` keep-alive connections; answers in call order."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(calls)):
        queue.put_nowait(index)
    answers: list[Answer | None] = [None] * len(calls)

    async def worker() -> None:
        connection = _Connection(host, port)
        try:
            while not queue.empty():
                index = queue.get_nowait()
                started = time.perf_counter()
                status, body = await connection.send(calls[index])
                answers[index] = Answer(calls[index], status, body, started, time.perf_counter())
        finally:
            await connection.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return [answer for answer in answers if answer is not None]


def latency(answers: list[Answer]) -> dict[str, float]:
    ordered = sorted(answer.ms for answer in answers)
    if not ordered:
        return {}
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
        "max_ms": round(ordered[-1], 1),
    }


def by_status(answers: list[Answer]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for answer in answers:
        counts[answer.status] = counts.get(answer.status, 0) + 1
    return dict(sorted(counts.items()))
