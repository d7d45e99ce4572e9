"""E-mail: a composed message rendered from the template files, and sent over SMTP.

HTML with a plain-text alternative; the QR code travels as an inline PNG (`cid:`) related to
the HTML part, so mail clients that block remote images still show it. Files to keep (the
order's receipt PDF) are attachments beside them (`multipart/mixed`).

The MIME text is written here, not by the standard library's `email` package: building an
`EmailMessage` and flattening it again for SMTP was a fifth of an e-ticket's CPU, for a message
whose shape never changes. Every part is base64 (any text, any line length), headers with
anything beyond printable ASCII are RFC 2047 encoded words, and the tests read the result back
with the `email` package's own parser.
"""

import html
import itertools
import os
import re
import ssl
from base64 import b64encode
from email.header import Header
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from pathlib import Path
from string import Template
from urllib.parse import quote

import aiosmtplib

from notification_gateway.adapters.qr import qr_png
from notification_gateway.domain.model import (
    Attachment,
    ETicket,
    Language,
    Message,
    Outcome,
    OutgoingEmail,
    PermanentFailure,
    Sent,
    TemporaryFailure,
)

_TEMPLATES = Path(__file__).parent / "templates"
_HTML = Template((_TEMPLATES / "email.html").read_text(encoding="utf-8"))
_TEXT = Template((_TEMPLATES / "email.txt").read_text(encoding="utf-8"))


def render_email(
    message: Message, *, language: Language, sender: str, recipient: str, message_key: str
) -> OutgoingEmail:
    qr_cid = (
        make_msgid(idstring="qr", domain="notification-gateway") if message.qr_payload else None
    )
    ticket_cids = [
        make_msgid(idstring=f"qr{n}", domain="notification-gateway")
        for n, _ in enumerate(message.tickets, start=1)
    ]
    images: list[Part] = []
    if message.qr_payload and qr_cid:
        images.append(_image(qr_png(message.qr_payload), qr_cid, "tiket-qr.png"))
    for n, (ticket, cid) in enumerate(zip(message.tickets, ticket_cids, strict=True), start=1):
        images.append(_image(qr_png(ticket.qr_payload), cid, f"tiket-{n}-qr.png"))
    html_part = _text("html", _render_html(message, language, qr_cid, ticket_cids))
    if images:
        html_part = _multipart("related", [html_part, *images])
    root = _multipart("alternative", [_text("plain", _render_text(message, language)), html_part])
    if message.attachments:
        root = _multipart("mixed", [root, *map(_attachment, message.attachments)])
    headers = [
        f"Subject: {_header_text(one_line(message.title))}",
        f"From: {_address(sender)}",
        f"To: {_address(recipient)}",
        f"Date: {formatdate(localtime=False)}",
        # Stable across retries, so a copy sent again after a crash can be recognised as the same.
        f"Message-ID: <{one_line(message_key)}@notification-gateway>",
        "Auto-Submitted: auto-generated",
        f"Content-Language: {language}",
        "MIME-Version: 1.0",
        *root.headers,
    ]
    raw = _CRLF.join(headers) + _CRLF + _CRLF + root.body
    return OutgoingEmail(
        sender=parseaddr(sender)[1], recipient=parseaddr(recipient)[1], raw=raw.encode("ascii")
    )


_CRLF = "\r\n"


class Part:
    """One MIME entity: its header lines and its body (ASCII, CRLF, no final line break)."""

    def __init__(self, headers: list[str], body: str) -> None:
        self.headers = headers
        self.body = body


def _base64(data: bytes) -> str:
    encoded = b64encode(data).decode("ascii")
    return _CRLF.join(encoded[i : i + 76] for i in range(0, len(encoded), 76))


def _text(subtype: str, text: str) -> Part:
    return Part(
        [f'Content-Type: text/{subtype}; charset="utf-8"', "Content-Transfer-Encoding: base64"],
        _base64(text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")),
    )


def _image(png: bytes, cid: str, filename: str) -> Part:
    return Part(
        [
            "Content-Type: image/png",
            "Content-Transfer-Encoding: base64",
            f"Content-Disposition: inline; {_filename(filename)}",
            f"Content-ID: {cid}",
        ],
        _base64(png),
    )


def _attachment(attachment: Attachment) -> Part:
    content_type = one_line(attachment.content_type)
    return Part(
        [
            f"Content-Type: {content_type}",
            "Content-Transfer-Encoding: base64",
            f"Content-Disposition: attachment; {_filename(attachment.filename)}",
        ],
        _base64(attachment.content),
    )


_boundaries = itertools.count(1)


def _multipart(subtype: str, parts: list[Part]) -> Part:
    # Unique in the process, and never a line of a part: every body is base64, whose lines
    # cannot begin with "--", and the boundaries nested in a message differ by their number.
    boundary = f"=_{os.getpid()}.{next(_boundaries)}"
    body = "".join(
        f"--{boundary}{_CRLF}{_CRLF.join(part.headers)}{_CRLF}{_CRLF}{part.body}{_CRLF}"
        for part in parts
    )
    return Part(
        [f'Content-Type: multipart/{subtype}; boundary="{boundary}"'], f"{body}--{boundary}--"
    )


def _filename(name: str) -> str:
    name = one_line(name)
    if name.isascii():
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'filename="{escaped}"'
    return f"filename*=utf-8''{quote(name, safe='')}"  # RFC 2231


def _header_text(text: str) -> str:
    if text.isascii() and len(text) <= 900:
        return text
    return Header(text, "utf-8").encode(linesep=_CRLF)


def _address(value: str) -> str:
    name, address = parseaddr(one_line(value))
    return formataddr((name, address), charset="utf-8")


def one_line(text: str) -> str:
    """A header value: control characters (CR/LF above all) become one space, so a title that
    slipped past the API can neither break the message nor add headers to it."""
    return " ".join(_CONTROL.sub(" ", text).split())


_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def _render_text(message: Message, language: Language) -> str:
    qr = ""
    if message.qr_payload or message.tickets:
        qr = "\n" + (
            "Kode QR ada di versi HTML e-mail ini."
            if language == "id"
            else "The QR code is in the HTML version of this e-mail."
        )
    tickets = "".join(
        f"\n{ticket.heading}\n{_text_rows(ticket.details)}\n" for ticket in message.tickets
    )
    text = _TEXT.substitute(
        title=message.title,
        greeting=message.greeting,
        paragraphs="\n\n".join(message.paragraphs),
        details=_text_rows(message.details) + tickets,
        qr=qr,
        footer=message.footer,
    )
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def _text_rows(rows: tuple[tuple[str, str], ...]) -> str:
    width = max((len(label) for label, _ in rows), default=0)
    return "\n".join(f"{label.ljust(width)}  {value}" for label, value in rows)


def _html_rows(rows: tuple[tuple[str, str], ...]) -> str:
    esc = html.escape
    return "\n".join(
        '<tr><td style="padding:6px 12px 6px 0;color:#7b8794;white-space:nowrap;">'
        f'{esc(label)}</td><td style="padding:6px 0;font-weight:bold;">{esc(value)}</td></tr>'
        for label, value in rows
    )


def _html_qr(cid: str, caption: str) -> str:
    esc = html.escape
    return (
        '<p style="text-align:center;margin:16px 0;">'
        f'<img src="cid:{cid.strip("<>")}" alt="{esc(caption)}" '
        'width="240" height="240" style="display:inline-block;"><br>'
        f'<span style="font-size:12px;color:#7b8794;">{esc(caption)}</span></p>'
    )


def _html_ticket(ticket: ETicket, cid: str) -> str:
    return (
        '<div style="border-top:1px solid #e4e7eb;margin:24px 0 0;padding:16px 0 0;">'
        f'<h2 style="font-size:18px;margin:0 0 8px;">{html.escape(ticket.heading)}</h2>'
        '<table role="presentation" cellpadding="0" cellspacing="0" '
        'style="margin:8px 0;border-collapse:collapse;width:100%;">'
        f"{_html_rows(ticket.details)}</table>{_html_qr(cid, ticket.qr_caption)}</div>"
    )


def _render_html(
    message: Message, language: Language, qr_cid: str | None, ticket_cids: list[str]
) -> str:
    esc = html.escape
    paragraphs = "\n".join(f'<p style="margin:0 0 12px;">{esc(p)}</p>' for p in message.paragraphs)
    details = _html_rows(message.details)
    qr = _html_qr(qr_cid, message.qr_caption) if qr_cid else ""
    qr += "\n".join(
        _html_ticket(ticket, cid) for ticket, cid in zip(message.tickets, ticket_cids, strict=True)
    )
    return _HTML.substitute(
        lang=language,
        title=esc(message.title),
        greeting=esc(message.greeting),
        paragraphs=paragraphs,
        details=details,
        qr=qr,
        footer=esc(message.footer),
    )


class SmtpMailer:
    """Sends over a few kept SMTP connections; SMTP's answer decides retry or give up.

    A connection (with its TLS and login) is opened when no idle one is left and put back after a
    message went through, so a storm of e-tickets does not pay a handshake per message. One
    that failed in any way is closed, never reused: the next message gets a fresh one. At most
    `connections` are kept idle; the dispatcher's sending slots bound how many are open at once.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        tls: str,
        username: str | None,
        password: str | None,
        timeout: float,
        connections: int = 8,
    ) -> None:
        self._host = host
        self._port = port
        self._tls = tls
        self._username = username
        self._password = password
        self._timeout = timeout
        self._keep = connections
        self._idle: list[aiosmtplib.SMTP] = []

    async def _connection(self) -> aiosmtplib.SMTP:
        while self._idle:
            smtp = self._idle.pop()
            if smtp.is_connected:
                return smtp
        smtp = aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            use_tls=self._tls == "tls",
            start_tls=self._tls == "starttls",
            timeout=self._timeout,
            tls_context=ssl.create_default_context() if self._tls != "none" else None,
        )
        await smtp.connect()
        if self._username is not None and self._password is not None:
            await smtp.login(self._username, self._password)
        return smtp

    def _put_back(self, smtp: aiosmtplib.SMTP) -> None:
        if len(self._idle) < self._keep and smtp.is_connected:
            self._idle.append(smtp)
        else:
            smtp.close()

    async def send(self, email: OutgoingEmail) -> Outcome:
        smtp: aiosmtplib.SMTP | None = None
        try:
            smtp = await self._connection()
            try:
                errors, response = await smtp.sendmail(email.sender, [email.recipient], email.raw)
            except aiosmtplib.SMTPServerDisconnected:
                # A kept connection the server closed while it was idle: once more, on a new one.
                _discard(smtp)
                smtp = None
                smtp = await self._connection()
                errors, response = await smtp.sendmail(email.sender, [email.recipient], email.raw)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            _discard(smtp)
            return _by_code(min(r.code for r in exc.recipients), str(exc))
        except aiosmtplib.SMTPResponseException as exc:
            _discard(smtp)
            return _by_code(exc.code, f"{exc.code} {exc.message}")
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            _discard(smtp)
            return TemporaryFailure(f"{type(exc).__name__}: {exc}")
        if errors:
            _discard(smtp)
            refused = "; ".join(f"{addr}: {r.code} {r.message}" for addr, r in errors.items())
            return _by_code(min(r.code for r in errors.values()), refused)
        self._put_back(smtp)
        return Sent(response)

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for smtp in idle:
            _discard(smtp)


def _discard(smtp: aiosmtplib.SMTP | None) -> None:
    if smtp is not None and smtp.is_connected:
        smtp.close()


def _by_code(code: int, error: str) -> Outcome:
    if 400 <= code < 500:
        return TemporaryFailure(error)
    return PermanentFailure(error)
