"""The idempotent-answer rules on an in-memory store (no database)."""

import json

import pytest
from servicekit.idempotency import (
    IdempotencyKeyReused,
    IdempotentAnswers,
    KeyRecord,
    StoredAnswer,
)


class MemoryStore:
    def __init__(self) -> None:
        self.records: dict[tuple[str, str], KeyRecord] = {}

    def claim(self, owner: str, key: str, fingerprint: str) -> None:
        self.records[(owner, key)] = KeyRecord(fingerprint, None)

    async def find(self, owner: str, key: str) -> KeyRecord | None:
        return self.records.get((owner, key))

    async def store_first(self, owner: str, key: str, answer: StoredAnswer) -> StoredAnswer:
        record = self.records.get((owner, key))
        if record is None:
            return answer
        if record.answer is None:
            self.records[(owner, key)] = KeyRecord(record.fingerprint, answer)
            return answer
        return record.answer


def answers(store: MemoryStore) -> IdempotentAnswers:
    return IdempotentAnswers(store, reused_message="key reused")


async def test_an_unknown_key_has_nothing_to_replay() -> None:
    assert await answers(MemoryStore()).replay(owner="u", key="k", fingerprint="f") is None


async def test_a_claimed_key_without_an_answer_has_nothing_to_replay() -> None:
    store = MemoryStore()
    store.claim("u", "k", "f")
    assert await answers(store).replay(owner="u", key="k", fingerprint="f") is None


async def test_the_first_answer_is_replayed_with_the_replayed_header() -> None:
    store = MemoryStore()
    store.claim("u", "k", "f")
    first = await answers(store).answer(owner="u", key="k", status_code=201, body={"data": 1})
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers

    replay = await answers(store).replay(owner="u", key="k", fingerprint="f")
    assert replay is not None
    assert replay.status_code == 201
    assert json.loads(bytes(replay.body)) == {"data": 1}
    assert replay.headers["Idempotent-Replayed"] == "true"


async def test_a_later_answer_does_not_replace_the_first() -> None:
    store = MemoryStore()
    store.claim("u", "k", "f")
    await answers(store).answer(owner="u", key="k", status_code=201, body={"data": 1})
    second = await answers(store).answer(owner="u", key="k", status_code=200, body={"data": 2})
    assert second.status_code == 201
    assert json.loads(bytes(second.body)) == {"data": 1}


async def test_the_same_key_for_another_request_is_refused() -> None:
    store = MemoryStore()
    store.claim("u", "k", "f")
    with pytest.raises(IdempotencyKeyReused) as refused:
        await answers(store).replay(owner="u", key="k", fingerprint="other")
    assert refused.value.status_code == 422
    assert refused.value.code == "idempotency_key_reused"


async def test_without_a_key_the_answer_is_given_and_not_kept() -> None:
    store = MemoryStore()
    response = await answers(store).answer(owner="u", key=None, status_code=201, body={"a": 1})
    assert response.status_code == 201
    assert store.records == {}


async def test_replay_stored_needs_a_stored_answer() -> None:
    store = MemoryStore()
    store.claim("u", "k", "f")
    with pytest.raises(LookupError):
        await answers(store).replay_stored(owner="u", key="k")
    await answers(store).answer(owner="u", key="k", status_code=201, body={"data": 1})
    assert (await answers(store).replay_stored(owner="u", key="k")).status_code == 201
