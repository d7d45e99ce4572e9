"""The HMAC QR payload of the e-tickets issued before issue 15, and its verification online.

Format: "TKT1.<ticket_id>.<attendance_code>.<key_id>.<base64url(HMAC-SHA256(key, body))>"
where body is "TKT1.<ticket_id>.<attendance_code>.<key_id>" and the base64 has no padding.
Every configured key verifies. New e-tickets carry the event's Ed25519 QR (offline_qr.py, which
a scanner verifies offline); the TKT1 ones already mailed keep admitting at the online door, and
`sign_qr_payload` makes them for tests.
"""

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

PREFIX = "TKT1"
SigningKeys = Sequence[tuple[str, bytes]]


@dataclass(frozen=True)
class QrClaims:
    ticket_id: str
    attendance_code: str
    key_id: str


class InvalidQrCode(Exception):
    """The payload is malformed, signed with an unknown key, or its signature does not match."""


def _signature(key: bytes, body: str) -> str:
    digest = hmac.new(key, body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign_qr_payload(ticket_id: str, attendance_code: str, keys: SigningKeys) -> str:
    if not keys:
        raise ValueError("no QR signing key configured")
    key_id, key = keys[0]
    body = f"{PREFIX}.{ticket_id}.{attendance_code}.{key_id}"
    return f"{body}.{_signature(key, body)}"


def verify_qr_payload(payload: str, keys: SigningKeys) -> QrClaims:
    parts = payload.strip().split(".")
    if len(parts) != 5 or parts[0] != PREFIX or not all(parts):
        raise InvalidQrCode("This is not a ticket QR code.")
    _, ticket_id, code, key_id, signature = parts
    key = dict(keys).get(key_id)
    if key is None:
        raise InvalidQrCode("The QR code was signed with an unknown key.")
    expected = _signature(key, f"{PREFIX}.{ticket_id}.{code}.{key_id}")
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise InvalidQrCode("The QR code's signature does not match.")
    return QrClaims(ticket_id=ticket_id, attendance_code=code, key_id=key_id)
