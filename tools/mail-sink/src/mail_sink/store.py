"""What the sink received, kept in memory (bounded), and the failures it should fake."""

import itertools
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any


@dataclass(frozen=True)
class Part:
    content_type: str
    size: int
    filename: str | None
    content_id: str | None
    disposition: str | None
    payload: bytes = field(repr=False)

    def public(self, index: int) -> dict[str, Any]:
        return {
            "index": index,
            "content_type": self.content_type,
            "size": self.size,
            "filename": self.filename,
            "content_id": self.content_id,
            "disposition": self.disposition,
        }


@dataclass(frozen=True)
class ReceivedMessage:
    id: int
    mail_from: str
    rcpt_tos: tuple[str, ...]
    subject: str
    headers: dict[str, str]
    text: str | None
    html: str | None
    parts: tuple[Part, ...]
    size: int
    received_at: datetime
    raw: bytes = field(repr=False)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "from": self.mail_from,
            "to": list(self.rcpt_tos),
            "subject": self.subject,
            "headers": self.headers,
            "text": self.text,
            "html": self.html,
            "attachments": [
                part.public(i) for i, part in enumerate(self.parts) if not _is_body(part)
            ],
            "parts": [part.public(i) for i, part in enumerate(self.parts)],
            "size": self.size,
            "received_at": self.received_at.isoformat(),
        }


def _is_body(part: Part) -> bool:
    return part.content_type in ("text/plain", "text/html") and part.disposition is None


_KEPT_HEADERS = ("from", "to", "subject", "date", "message-id", "content-language", "reply-to")


def parse_message(
    message_id: int,
    mail_from: str,
    rcpt_tos: tuple[str, ...],
    raw: bytes,
    received_at: datetime | None = None,
) -> ReceivedMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    parts = tuple(_leaf_parts(message))
    return ReceivedMessage(
        id=message_id,
        mail_from=mail_from,
        rcpt_tos=rcpt_tos,
        subject=str(message.get("subject", "")),
        headers={k: str(message[k]) for k in _KEPT_HEADERS if message[k] is not None},
        text=_body_text(message, "plain"),
        html=_body_text(message, "html"),
        parts=parts,
        size=len(raw),
        received_at=received_at or datetime.now(UTC),
        raw=raw,
    )


def _leaf_parts(message: EmailMessage) -> list[Part]:
    leaves: list[Part] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        content_id = part.get("content-id")
        leaves.append(
            Part(
                content_type=part.get_content_type(),
                size=len(data),
                filename=part.get_filename(),
                content_id=str(content_id).strip("<>") if content_id else None,
                disposition=part.get_content_disposition(),
                payload=data,
            )
        )
    return leaves


def _body_text(message: EmailMessage, subtype: str) -> str | None:
    body = message.get_body(preferencelist=(subtype,))
    if body is None:
        return None
    content = body.get_content()
    return content if isinstance(content, str) else None


@dataclass
class FailureRule:
    """Answer `code message` at DATA for the next `remaining` messages (to `recipient`, if set)."""

    code: int
    message: str
    remaining: int
    recipient: str | None = None
    answered: int = 0

    def matches(self, rcpt_tos: tuple[str, ...]) -> bool:
        if self.remaining <= 0:
            return False
        return self.recipient is None or self.recipient.lower() in (r.lower() for r in rcpt_tos)

    def public(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "remaining": self.remaining,
            "recipient": self.recipient,
            "answered": self.answered,
        }


@dataclass
class _Kept:
    """A message as received; parsed the first time someone reads it.

    A real relay does not parse MIME: parsing every message as it arrived cost the sink about
    15 ms of CPU per e-ticket, taken from the services it shares the machine with under a storm.
    """

    id: int
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    received_at: datetime
    parsed: ReceivedMessage | None = None

    def message(self) -> ReceivedMessage:
        if self.parsed is None:
            self.parsed = parse_message(
                self.id, self.mail_from, self.rcpt_tos, self.raw, self.received_at
            )
        return self.parsed


class MailStore:
    """Thread-safe because the HTTP and SMTP servers may one day run on different threads."""

    def __init__(self, capacity: int = 1000) -> None:
        self._messages: deque[_Kept] = deque(maxlen=capacity)
        self._rules: list[FailureRule] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, mail_from: str, rcpt_tos: tuple[str, ...], raw: bytes) -> int:
        """Keep the message; its id."""
        kept = _Kept(next(self._ids), mail_from, rcpt_tos, raw, datetime.now(UTC))
        with self._lock:
            self._messages.append(kept)
        return kept.id

    def _kept(self, recipient: str | None) -> list[_Kept]:
        with self._lock:
            kept = list(self._messages)
        if recipient is None:
            return kept
        wanted = recipient.lower()
        return [m for m in kept if wanted in (r.lower() for r in m.rcpt_tos)]

    def messages(self, recipient: str | None = None) -> list[ReceivedMessage]:
        return [kept.message() for kept in self._kept(recipient)]

    def count(self, recipient: str | None = None) -> int:
        """How many messages are kept (for `recipient`), without parsing any."""
        return len(self._kept(recipient))

    def get(self, message_id: int) -> ReceivedMessage | None:
        with self._lock:
            found = next((m for m in self._messages if m.id == message_id), None)
        return found.message() if found is not None else None

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    def add_failure(self, rule: FailureRule) -> None:
        with self._lock:
            self._rules.append(rule)

    def failures(self) -> list[FailureRule]:
        with self._lock:
            return list(self._rules)

    def clear_failures(self) -> None:
        with self._lock:
            self._rules.clear()

    def take_failure(self, rcpt_tos: tuple[str, ...]) -> FailureRule | None:
        """The first rule matching this message, counted down; None to accept the message."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(rcpt_tos):
                    rule.remaining -= 1
                    rule.answered += 1
                    return rule
        return None
