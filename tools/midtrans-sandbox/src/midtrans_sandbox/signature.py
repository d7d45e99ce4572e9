"""Midtrans' notification signature: SHA-512 of order_id + status_code + gross_amount + key."""

from __future__ import annotations

import hashlib


def signature_key(order_id: str, status_code: str, gross_amount: str, server_key: str) -> str:
    """Lowercase hex SHA-512 over the raw payload strings, exactly as they are sent."""
    raw = f"{order_id}{status_code}{gross_amount}{server_key}"
    return hashlib.sha512(raw.encode("utf-8")).hexdigest()


def format_amount(rupiah: int) -> str:
    """IDR amounts in notifications and status bodies carry two decimals: 10000 -> '10000.00'."""
    return f"{rupiah}.00"
