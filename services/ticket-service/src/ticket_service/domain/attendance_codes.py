"""Attendance codes: 4 characters a door person can read aloud without confusing look-alikes."""

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""No 0/O, 1/I/L: 31 symbols, 31**4 = 923,521 codes per event."""
CODE_LENGTH = 4
CODE_SPACE = len(ALPHABET) ** CODE_LENGTH
MAX_CAPACITY = 100_000
"""Keeps an event's codes under 11% of the space, so a random draw rarely collides."""


def new_attendance_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_attendance_code(raw: str) -> str | None:
    """The canonical form of a code typed by a person, or None when it cannot be one."""
    code = raw.strip().upper()
    if len(code) != CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code
