"""The SMTP side: an aiosmtpd handler that stores each message or answers a faked failure."""

import logging
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from mail_sink.store import MailStore

logger = logging.getLogger(__name__)


class SinkHandler:
    def __init__(self, store: MailStore) -> None:
        self.store = store

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        rcpt_tos = tuple(str(r) for r in envelope.rcpt_tos)
        rule = self.store.take_failure(rcpt_tos)
        if rule is not None:
            logger.info("answering %d to a message for %s", rule.code, ", ".join(rcpt_tos))
            return f"{rule.code} {rule.message}"
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode()
        message_id = self.store.add(str(envelope.mail_from or ""), rcpt_tos, data)
        logger.info("kept message %d for %s", message_id, ", ".join(rcpt_tos))
        return "250 Message accepted for delivery"


def accept_any_login(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    """Development only: any user and password will do, so a client configured with one works."""
    return AuthResult(success=True)


def smtp_factory(store: MailStore, hostname: str = "mail-sink") -> SMTP:
    return SMTP(
        SinkHandler(store),
        hostname=hostname,
        authenticator=accept_any_login,
        auth_require_tls=False,
        data_size_limit=10 * 1024 * 1024,
    )
