"""Tokens already verified, kept until they expire: a phone or a scanner sends the same token on
every request, and checking its signature again each time was about 5% of a request's CPU.

Only a token that passed every check is kept, under its exact text, and only until its own
`exp`: a cached answer is what verifying again would answer. The cache is bounded; the oldest
entries go first.
"""

import time
from collections import OrderedDict
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class VerifiedTokens(Generic[T]):
    """What each verified token was found to mean (its principal), by the token's text."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._kept: OrderedDict[str, tuple[T, float]] = OrderedDict()

    def get(self, token: str) -> T | None:
        kept = self._kept.get(token)
        if kept is None:
            return None
        principal, expires_at = kept
        if time.time() >= expires_at:
            del self._kept[token]
            return None
        return principal

    def keep(self, token: str, principal: T, claims: dict[str, Any]) -> None:
        """Keep `principal` for `token` until the token's `exp` claim (not at all without one)."""
        expires_at = claims.get("exp")
        if not isinstance(expires_at, int | float) or isinstance(expires_at, bool):
            return
        self._kept[token] = (principal, float(expires_at))
        if len(self._kept) > self._size:
            self._kept.popitem(last=False)
