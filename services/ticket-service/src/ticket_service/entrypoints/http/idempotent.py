"""A buying route answered once per Idempotency-Key: a retry gets the first answer back."""

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from fastapi import Request, Response

from ticket_service import bootstrap

Answer = tuple[int, dict[str, Any]]
"""A route's status code and body; None instead when the key's first request answered."""


class KeyedCommand(Protocol):
    @property
    def buyer_id(self) -> str: ...

    @property
    def idempotency_key(self) -> str | None: ...

    def fingerprint(self) -> str: ...


async def answer_once(
    request: Request,
    command: KeyedCommand,
    *,
    reused_message: str,
    run: Callable[[], Awaitable[Answer | None]],
) -> Response:
    """Replay the key's stored answer, or `run` the use case and store what it answers."""
    answers = bootstrap.purchase_answers(request, reused_message=reused_message)
    key = command.idempotency_key
    if key is not None:
        replay = await answers.replay(
            owner=command.buyer_id, key=key, fingerprint=command.fingerprint()
        )
        if replay is not None:
            return replay
    answered = await run()
    if answered is None:  # a concurrent first request with this key stored its answer
        assert key is not None
        return await answers.replay_stored(owner=command.buyer_id, key=key)
    status_code, body = answered
    return await answers.answer(owner=command.buyer_id, key=key, status_code=status_code, body=body)
