"""E-mail: a composed message rendered from the template files, and sent over SMTP.

HTML with a plain-text alternative; the QR code travels as an inline PNG (`cid:`) related to
the HTML part, so mail clients that block remote images still show it. Files to keep (the
order's receipt PDF) are attachments beside them (`multipart/mixed`).
"""

import html
import re
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from string import Template

import aiosmtplib

from notification_gateway.adapters.qr import qr_png
from notification_gateway.domain.model import (
    ETicket,
    Language,
    Message,
    Outcome,
    PermanentFailure,
    Sent,
    TemporaryFailure,
)

_TEMPLATES = Path(__file__).parent / "templates"
_HTML = Template((_TEMPLATES / "email.html").read_text(encoding="utf-8"))
_TEXT = Template((_TEMPLATES / "email.txt").read_text(encoding="utf-8"))


def render_email(
    message: Message, *, language: Language, sender: str, recipient: str, message_key: str
) -> EmailMessage:
    email = EmailMessage()
    email["Subject"] = one_line(message.title)
    email["From"] = sender
    email["To"] = recipient
    email["Date"] = formatdate(localtime=False)
    # Stable across retries, so a copy sent again after a crash can be recognised as the same.
    email["Message-ID"] = f"<{message_key}@notification-gateway>"
    email["Auto-Submitted"] = "auto-generated"
    qr_cid = (
        make_msgid(idstring="qr", domain="notification-gateway") if message.qr_payload else None
    )
    ticket_cids = [
        make_msgid(idstring=f"qr{n}", domain="notification-gateway")
        for n, _ in enumerate(message.tickets, start=1)
    ]
    email.set_content(_render_text(message, language))
    email.add_alternative(_render_html(message, language, qr_cid, ticket_cids), subtype="html")
    images: list[tuple[str, str, str]] = []  # (QR content, cid, file name)
    if message.qr_payload and qr_cid:
        images.append((message.qr_payload, qr_cid, "tiket-qr.png"))
    for n, (ticket, cid) in enumerate(zip(message.tickets, ticket_cids, strict=True), start=1):
        images.append((ticket.qr_payload, cid, f"tiket-{n}-qr.png"))
    if images:
        html_part = email.get_body(preferencelist=("html",))
        assert isinstance(html_part, EmailMessage)
        for payload, cid, filename in images:
            html_part.add_related(
                qr_png(payload),
                maintype="image",
                subtype="png",
                cid=cid,
                filename=filename,
                disposition="inline",
            )
    for attachment in message.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        email.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    # Last: set_content clears the Content-* headers, and an attachment moves them to the body.
    email["Content-Language"] = language
    return email


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

    async def send(self, email: EmailMessage) -> Outcome:
        smtp: aiosmtplib.SMTP | None = None
        try:
            smtp = await self._connection()
            try:
                errors, response = await smtp.send_message(email)
            except aiosmtplib.SMTPServerDisconnected:
                # A kept connection the server closed while it was idle: once more, on a new one.
                _discard(smtp)
                smtp = None
                smtp = await self._connection()
                errors, response = await smtp.send_message(email)
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
