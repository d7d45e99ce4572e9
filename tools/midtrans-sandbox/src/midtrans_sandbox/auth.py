"""HTTP Basic auth as Midtrans checks it: the server key is the user name, the password is empty."""

from __future__ import annotations

import base64
import binascii
import secrets


def server_key_from_header(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, _, _password = decoded.partition(":")
    return user


def is_authorized(authorization: str | None, server_key: str) -> bool:
    given = server_key_from_header(authorization)
    return given is not None and secrets.compare_digest(given.encode(), server_key.encode())
