"""Keyset pagination of ticket-service's lists: servicekit's, shared with payment-service."""

from servicekit.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Cursor,
    decode_cursor,
    encode_cursor,
)

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "Cursor", "decode_cursor", "encode_cursor"]
