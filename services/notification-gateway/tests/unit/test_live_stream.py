"""Following a person's live stream on an in-memory stream: catch-up, live entries, heartbeats."""

from dataclasses import dataclass, field

from notification_gateway.domain.stream import StreamEntry, id_order
from notification_gateway.service_layer.fanout import StreamHub
from notification_gateway.service_layer.live_stream import StreamSignal, follow_stream


def entry(entry_id: str) -> StreamEntry:
    return StreamEntry(entry_id, "ticket.activated", f'{{"id": "{entry_id}"}}')


@dataclass
class InMemoryStream:
    entries: list[StreamEntry] = field(default_factory=list)
    nudges: int = 0

    async def last_id(self, user_id: str) -> str:
        return self.entries[-1].id if self.entries else "0-0"

    async def read_after(self, user_id: str, after_id: str) -> list[StreamEntry]:
        return [e for e in self.entries if id_order(e.id) > id_order(after_id)]

    async def read_many(
        self, cursors: dict[str, str], *, block_ms: int | None, wake_key: str | None = None
    ) -> dict[str, list[StreamEntry]]:
        return {user: await self.read_after(user, cursor) for user, cursor in cursors.items()}

    async def nudge(self, wake_key: str) -> None:
        self.nudges += 1


async def test_a_resumed_stream_sends_what_was_missed_then_new_entries_once() -> None:
    stream = InMemoryStream([entry("1-0"), entry("2-0"), entry("3-0")])
    hub = StreamHub(stream)
    followed = follow_stream(
        stream, hub, user_id="user-42", resume_after="1-0", heartbeat_seconds=5
    )
    assert await anext(followed) is StreamSignal.CONNECTED
    assert [await anext(followed), await anext(followed)] == [entry("2-0"), entry("3-0")]
    stream.entries.append(entry("4-0"))
    await hub.run_once()
    assert await anext(followed) == entry("4-0")
    assert hub.subscribers == 1
    await followed.aclose()
    assert hub.subscribers == 0


async def test_a_fresh_stream_starts_at_the_newest_entry() -> None:
    stream = InMemoryStream([entry("1-0")])
    hub = StreamHub(stream)
    followed = follow_stream(stream, hub, user_id="user-42", resume_after=None, heartbeat_seconds=5)
    assert await anext(followed) is StreamSignal.CONNECTED
    stream.entries.append(entry("2-0"))
    await hub.run_once()
    assert await anext(followed) == entry("2-0")
    await followed.aclose()


async def test_a_quiet_stream_sends_keep_alives() -> None:
    stream = InMemoryStream()
    hub = StreamHub(stream)
    followed = follow_stream(
        stream, hub, user_id="user-42", resume_after=None, heartbeat_seconds=0.01
    )
    assert await anext(followed) is StreamSignal.CONNECTED
    assert await anext(followed) is StreamSignal.KEEP_ALIVE
    await followed.aclose()


async def test_a_subscriber_too_far_behind_is_cut_off() -> None:
    stream = InMemoryStream()
    hub = StreamHub(stream)
    followed = follow_stream(stream, hub, user_id="user-42", resume_after=None, heartbeat_seconds=5)
    assert await anext(followed) is StreamSignal.CONNECTED
    stream.entries.extend(entry(f"{n}-0") for n in range(1, 502))
    await hub.run_once()
    # It ends at once; the client reconnects with Last-Event-ID and catches up from Redis.
    assert [item async for item in followed] == []
    assert hub.subscribers == 0
