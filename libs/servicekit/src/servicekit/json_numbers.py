"""JSON numbers a request may carry: finite ones only.

Python's `json` reads `NaN`, `Infinity` and `1e309` (as inf), which are not JSON (RFC 8259) and
which no field can hold (money is integer rupiah); they are refused for every route, before any
model sees them.
"""

import json
import math

REFUSAL = "numbers must be finite: NaN, Infinity and out-of-range values like 1e309 are not JSON"


class NonFiniteNumber(ValueError):
    pass


def _refuse_constant(name: str) -> float:
    raise NonFiniteNumber(name)


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise NonFiniteNumber(text)
    return value


def has_non_finite_number(body: bytes, content_type: bytes) -> bool:
    """True when a JSON body holds a number that is not finite; other problems are not ours."""
    if b"json" not in content_type.lower() or not body:
        return False
    try:
        json.loads(body, parse_constant=_refuse_constant, parse_float=_finite_float)
    except NonFiniteNumber:
        return True
    except ValueError:
        return False  # malformed JSON: FastAPI answers it
    return False
