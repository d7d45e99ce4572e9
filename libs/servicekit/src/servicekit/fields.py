"""Request field types whose JSON Schema says exactly what they accept.

What the published schema allows is accepted and what it refuses is refused: the checks run on
the raw value (no stripping before the length or pattern check), and trimming happens after.
Single-line text refuses control characters: CR/LF in an event title would reach e-mail headers.
"""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, StringConstraints

# Spelled out instead of `\s`: Python's `re`, the Rust engine pydantic validates with and the
# schema's readers (ECMA regex, hypothesis) disagree on a few code points (U+0085 above all).
_CONTROL = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
_SPACE = r" \xa0\u1680\u2000-\u200a\u202f\u205f\u3000"
NO_CONTROL = rf"^[^{_CONTROL}]*$"
"""No control characters (tabs and line breaks included); may be empty or blank."""
SINGLE_LINE = rf"^[^{_CONTROL}]*[^{_CONTROL}{_SPACE}][^{_CONTROL}]*$"
"""At least one visible character and no control characters."""
_EMAIL_PART = rf"[^@{_CONTROL}{_SPACE}]+"
EMAIL_PATTERN = rf"^{_EMAIL_PART}@{_EMAIL_PART}\.{_EMAIL_PART}$"
CURSOR_PATTERN = r"^[0-9]{1,16}-[0-9a-f]{32}$"
"""Keyset cursors: microseconds since 1970 and the row's id, so every match decodes."""


def _trimmed(value: str) -> str:
    return value.strip()


Trim = AfterValidator(_trimmed)
"""Trims after the checks; put it last in an `Annotated[str, StringConstraints(...), Trim]`."""

Email = Annotated[str, StringConstraints(max_length=254, pattern=EMAIL_PATTERN)]


def _text_only(value: object) -> object:
    if not isinstance(value, str | datetime):
        raise ValueError("give a date-time as text, e.g. 2026-12-31T19:00:00+07:00")
    return value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("give a timezone, e.g. 2026-12-31T19:00:00+07:00")
    return value


AwareDatetime = Annotated[datetime, BeforeValidator(_text_only), AfterValidator(_aware)]
"""An RFC 3339 date-time with its offset, as the schema's `date-time` says (no numbers)."""
