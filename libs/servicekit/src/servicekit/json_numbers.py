"""What any request may carry: finite JSON numbers, and no NUL character anywhere.

Python's `json` reads `NaN`, `Infinity` and `1e309` (as inf), which are not JSON (RFC 8259) and
which no field can hold (money is integer rupiah). PostgreSQL's text and jsonb cannot store
U+0000, so a NUL in a body, a path or a query would fail deep inside a use case (a 500, or a
webhook's audit row lost). Both are refused for every route, before any model sees them, and
the published schema says so (`contract` gives every free string a no-NUL pattern).
"""

import json
import math
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson

NON_FINITE = "numbers must be finite: NaN, Infinity and out-of-range values like 1e309 are not JSON"
NUL = "text cannot contain the NUL character (U+0000)"


class NonFiniteNumber(ValueError):
    pass


def _refuse_constant(name: str) -> float:
    raise NonFiniteNumber(name)


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise NonFiniteNumber(text)
    return value


def body_problem(body: bytes, content_type: bytes) -> str | None:
    """Why a JSON body is refused here, or None; malformed JSON is left to FastAPI."""
    if b"json" not in content_type.lower() or not body:
        return None
    try:
        # orjson reads only RFC 8259 JSON and refuses non-finite numbers, fast; what it refuses
        # is told apart (non-finite number or malformed) by the slow, exact reading below.
        fast = orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    else:
        return NUL if b"\\u0000" in body and _holds_nul(fast) else None
    try:
        parsed = json.loads(body, parse_constant=_refuse_constant, parse_float=_finite_float)
    except NonFiniteNumber:
        return NON_FINITE
    except ValueError:
        return None
    if b"\\u0000" in body and _holds_nul(parsed):
        return NUL
    return None


def target_problem(path: bytes, query: bytes) -> str | None:
    """Why a request's path or query is refused here (a NUL, percent-encoded), or None."""
    if b"\x00" in unquote_to_bytes(path) or b"\x00" in unquote_to_bytes(query):
        return NUL
    return None


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    return False
