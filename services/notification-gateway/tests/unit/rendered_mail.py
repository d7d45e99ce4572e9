"""An e-mail as it went on the wire, read back by the standard library's parser."""

from email import message_from_bytes, policy
from email.message import EmailMessage

from notification_gateway.domain.model import OutgoingEmail


def parsed(email: OutgoingEmail) -> EmailMessage:
    message = message_from_bytes(email.raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert not message.defects, message.defects
    return message
