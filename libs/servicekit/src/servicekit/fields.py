"""Request field types whose JSON Schema says exactly what they accept.

What the published schema allows is accepted and what it refuses is refused: the checks run on
the raw value (no stripping before the length or pattern check), and trimming happens after.
Single-line text refuses control characters: CR/LF in an event title would reach e-mail headers.
"""

from typing import Annotated

from pydantic import AfterValidator, StringConstraints

NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
"""No control characters (tabs and line breaks included); may be empty or blank."""
SINGLE_LINE = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
"""At least one visible character and no control characters."""
EMAIL_PATTERN = r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$"
CURSOR_PATTERN = r"^\d{1,16}-[0-9a-f]{32}$"
"""Keyset cursors: microseconds since 1970 and the row's id, so every match decodes."""


def _trimmed(value: str) -> str:
    return value.strip()


Trim = AfterValidator(_trimmed)
"""Trims after the checks; put it last in an `Annotated[str, StringConstraints(...), Trim]`."""

Email = Annotated[str, StringConstraints(max_length=254, pattern=EMAIL_PATTERN)]
