"""Keyset pagination: `next_cursor` is the last row's (created_at, id) as `<µs since 1970>-<hex>`.

The published pattern (`servicekit.fields.CURSOR_PATTERN`) admits only cursors that decode, so a
client (or a fuzzer) that keeps to the schema never gets a cursor refused.
"""

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Query

from servicekit.errors import AppError
from servicekit.fields import CURSOR_PATTERN

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR = re.compile(CURSOR_PATTERN)

Cursor = Annotated[
    str | None,
    Query(pattern=CURSOR_PATTERN, description="`next_cursor` of the previous page."),
]


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    micros = (created_at - EPOCH) // timedelta(microseconds=1)
    return f"{micros}-{row_id.hex}"


def decode_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if not cursor:
        return None
    if not _CURSOR.fullmatch(cursor):
        raise AppError("The cursor is not one we gave out.", code="invalid_cursor")
    micros, _, row_id = cursor.partition("-")
    return EPOCH + timedelta(microseconds=int(micros)), uuid.UUID(hex=row_id)
