"""Idempotent answers at the HTTP edge: a request's first answer is kept under its key and
replayed, byte for byte and with `Idempotent-Replayed: true`, to every retry with that key.

The service owns the table (`AnswerStore`); this module owns the rules: a key is per owner (the
caller), the same key with a different request is refused, and the first stored answer wins a
race between retries.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from fastapi.responses import JSONResponse

from servicekit.errors import AppError

REPLAYED_HEADER = "Idempotent-Replayed"


@dataclass(frozen=True)
class StoredAnswer:
    status_code: int
    body: Mapping[str, Any]


@dataclass(frozen=True)
class KeyRecord:
    """What is known about a key: the request it was first used for and, once given, its answer."""

    fingerprint: str
    answer: StoredAnswer | None


class AnswerStore(Protocol):
    async def find(self, owner: str, key: str) -> KeyRecord | None: ...

    async def store_first(self, owner: str, key: str, answer: StoredAnswer) -> StoredAnswer:
        """Keep `answer` unless one is stored already; return the one that stands."""


class IdempotencyKeyReused(AppError):
    status_code = 422
    code = "idempotency_key_reused"


def replayed_response(answer: StoredAnswer) -> JSONResponse:
    return JSONResponse(
        dict(answer.body), status_code=answer.status_code, headers={REPLAYED_HEADER: "true"}
    )


class IdempotentAnswers:
    def __init__(self, store: AnswerStore, *, reused_message: str) -> None:
        self.store = store
        self.reused_message = reused_message

    async def replay(self, *, owner: str, key: str, fingerprint: str) -> JSONResponse | None:
        """The first answer of `key`, if it has one; refuses a key used for another request."""
        record = await self.store.find(owner, key)
        if record is None:
            return None
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused(self.reused_message)
        return replayed_response(record.answer) if record.answer is not None else None

    async def replay_stored(self, *, owner: str, key: str) -> JSONResponse:
        """The answer a concurrent first request stored while this one waited for it."""
        record = await self.store.find(owner, key)
        if record is None or record.answer is None:
            raise LookupError(f"no stored answer for idempotency key {key!r}")
        return replayed_response(record.answer)

    async def answer(
        self, *, owner: str, key: str | None, status_code: int, body: Mapping[str, Any]
    ) -> JSONResponse:
        """Answer, keeping it as the key's first answer; a retry that stored first wins."""
        if key is None:
            return JSONResponse(dict(body), status_code=status_code)
        stored = await self.store.store_first(owner, key, StoredAnswer(status_code, body))
        return JSONResponse(dict(stored.body), status_code=stored.status_code)
