"""Channels, recipients, a composed message, and what a delivery attempt can come to."""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

Language = Literal["id", "en"]
LANGUAGES: tuple[Language, ...] = ("id", "en")


class Channel(StrEnum):
    EMAIL = "email"
    PUSH = "push"
    STREAM = "stream"


class Audience(StrEnum):
    """Why a person hears of an event: it is their ticket or payment, or their event (host)."""

    HOLDER = "holder"
    HOST = "host"


@dataclass(frozen=True)
class Recipient:
    user_id: str
    audience: Audience
    email: str | None
    channels: frozenset[Channel]
    collapse_key: str | None = None
    """Deliveries (e-mail, push) sharing this key reach a person once: the hold that ended is
    told once though both ticket.expired and payment.failed say so."""


@dataclass(frozen=True)
class ETicket:
    """One e-ticket inside a message (an order's e-mail holds one per ticket, each with its QR)."""

    heading: str
    details: tuple[tuple[str, str], ...]
    qr_payload: str = field(repr=False)
    qr_caption: str = ""


@dataclass(frozen=True)
class Attachment:
    """A file sent with an e-mail for keeping (not shown inline): the order's receipt PDF."""

    filename: str
    content_type: str
    content: bytes = field(repr=False)


@dataclass(frozen=True)
class Message:
    """One notification in one language: what the list, the stream, push and e-mail show."""

    title: str
    body: str
    greeting: str = ""
    paragraphs: tuple[str, ...] = ()
    details: tuple[tuple[str, str], ...] = ()
    footer: str = ""
    qr_payload: str | None = field(default=None, repr=False)
    qr_caption: str = ""
    tickets: tuple[ETicket, ...] = ()
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class OutgoingEmail:
    """An e-mail as it goes on the wire: the envelope's two addresses and the message (CRLF)."""

    sender: str
    recipient: str
    raw: bytes = field(repr=False)


@dataclass(frozen=True)
class Sent:
    detail: str = ""


@dataclass(frozen=True)
class TemporaryFailure:
    """Worth trying again later: SMTP 4xx, HTTP 5xx/429, timeouts, connection trouble."""

    error: str


@dataclass(frozen=True)
class PermanentFailure:
    """Trying again cannot help: SMTP 5xx, a refused address, an unregistered device token."""

    error: str
    drop_device: bool = False


Outcome = Sent | TemporaryFailure | PermanentFailure


def retry_delay(attempt: int, *, base_seconds: float, max_seconds: float) -> float:
    """Exponential backoff after the `attempt`-th failed try (1-based): base, 2·base, 4·base, …"""
    return float(min(max_seconds, base_seconds * 2 ** max(0, attempt - 1)))


def gives_up(attempt: int, max_attempts: int) -> bool:
    return attempt >= max_attempts
