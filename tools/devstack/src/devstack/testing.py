"""Test helpers: a recording upstream HTTP server to put behind the gateway."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STREAM_PAUSE_SECONDS = 0.6


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass
class RecordingUpstream:
    """Answers every request with {"upstream": name, "path": path} and remembers what it got.

    GET /notifications/stream answers as server-sent events: one event, a pause, a second one.
    """

    name: str
    server: ThreadingHTTPServer
    requests: list[Seen] = field(default_factory=list)
    thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def last(self) -> Seen:
        return self.requests[-1]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_upstream(name: str, host: str = "127.0.0.1") -> RecordingUpstream:
    server = ThreadingHTTPServer((host, 0), BaseHTTPRequestHandler)
    upstream = RecordingUpstream(name, server)
    server.RequestHandlerClass = _handler_for(upstream)
    server.daemon_threads = True
    upstream.thread = threading.Thread(
        target=server.serve_forever, name=f"upstream-{name}", daemon=True
    )
    upstream.thread.start()
    return upstream


def _handler_for(upstream: RecordingUpstream) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return

        def _record(self) -> Seen:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            seen = Seen(
                self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
            )
            upstream.requests.append(seen)
            return seen

        def _answer(self) -> None:
            seen = self._record()
            if seen.path.startswith("/notifications/stream"):
                self._stream()
                return
            payload = json.dumps({"upstream": upstream.name, "path": seen.path}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _stream(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"data: first\n\n")
            self.wfile.flush()
            time.sleep(STREAM_PAUSE_SECONDS)
            self.wfile.write(b"data: second\n\n")
            self.wfile.flush()
            self.close_connection = True

        do_GET = _answer  # noqa: N815 - http.server's names
        do_POST = _answer  # noqa: N815
        do_PUT = _answer  # noqa: N815
        do_DELETE = _answer  # noqa: N815

    return Handler
