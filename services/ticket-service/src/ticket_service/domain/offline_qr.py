"""QR codes a scanner verifies offline: signed with the event's Ed25519 key (issue 15).

Format: "TKT2.<event_id>.<ticket_id>.<attendance_code>.<ticket_type_id or ->.<key_id>.<sig>"
where sig is base64url (no padding) of the Ed25519 signature of everything before the last dot.
Only the event's public key (GET /events/{id}/check-in-key) is needed to verify one; the
private key never leaves ticket-service. HMAC QRs ("TKT1", qr_codes.py) keep verifying online.
"""

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from ticket_service.domain.qr_codes import InvalidQrCode, QrClaims

PREFIX = "TKT2"
NO_TYPE = "-"


@dataclass(frozen=True)
class OfflineQrClaims(QrClaims):
    event_id: str
    ticket_type_id: str | None


@dataclass(frozen=True)
class KeyPair:
    private_key: bytes
    public_key: bytes


def new_key_pair() -> KeyPair:
    private = Ed25519PrivateKey.generate()
    return KeyPair(
        private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()),
        private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
    )


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_key_text(public_key: bytes) -> str:
    """How the check-in-key endpoint gives a public key: raw 32 bytes, base64url."""
    return _b64(public_key)


def sign_offline_qr(
    *,
    event_id: str,
    ticket_id: str,
    attendance_code: str,
    ticket_type_id: str | None,
    key_id: str,
    private_key: bytes,
) -> str:
    body = ".".join(
        (PREFIX, event_id, ticket_id, attendance_code, ticket_type_id or NO_TYPE, key_id)
    )
    signature = _signing_key(private_key).sign(body.encode())
    return f"{body}.{_b64(signature)}"


@lru_cache(maxsize=256)
def _signing_key(private_key: bytes) -> Ed25519PrivateKey:
    """An event's key, loaded once per process: loading it took as long as a signature (30 us),
    on every e-ticket and QR image."""
    return Ed25519PrivateKey.from_private_bytes(private_key)


def qr_key_ref(payload: str) -> tuple[str, str] | None:
    """(event_id, key_id) of an offline QR, to find its public key; None if not one."""
    parts = payload.strip().split(".")
    if len(parts) != 7 or parts[0] != PREFIX:
        return None
    return parts[1], parts[5]


def verify_offline_qr(payload: str, public_keys: Mapping[str, bytes]) -> OfflineQrClaims:
    """The claims of a genuine QR; raises InvalidQrCode for anything forged or edited."""
    parts = payload.strip().split(".")
    if len(parts) != 7 or parts[0] != PREFIX or not all(parts):
        raise InvalidQrCode("This is not a ticket QR code.")
    _, event_id, ticket_id, code, type_id, key_id, signature = parts
    public = public_keys.get(key_id)
    if public is None:
        raise InvalidQrCode("The QR code was signed with an unknown key.")
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(
            _unb64(signature), payload.strip().rpartition(".")[0].encode()
        )
    except (InvalidSignature, ValueError, binascii.Error) as exc:
        raise InvalidQrCode("The QR code's signature does not match.") from exc
    return OfflineQrClaims(
        ticket_id=ticket_id,
        attendance_code=code,
        key_id=key_id,
        event_id=event_id,
        ticket_type_id=None if type_id == NO_TYPE else type_id,
    )
