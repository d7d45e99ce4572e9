"""Request field types whose JSON Schema says exactly what they accept.

They live in `ticketing_contracts.fields`, because the internal API's models there use them too;
services import them from here as before.
"""

from ticketing_contracts.fields import (
    CURSOR_PATTERN,
    EMAIL_PATTERN,
    NO_CONTROL,
    SINGLE_LINE,
    AwareDatetime,
    Email,
    Trim,
)

__all__ = [
    "CURSOR_PATTERN",
    "EMAIL_PATTERN",
    "NO_CONTROL",
    "SINGLE_LINE",
    "AwareDatetime",
    "Email",
    "Trim",
]
