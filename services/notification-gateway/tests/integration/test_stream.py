"""The live stream: SSE of the caller's notifications, resumable with Last-Event-ID."""

import asyncio
import contextlib
import uuid
from typing import Any

import httpx

Gateway = Any


def _user() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"


async def test_the_stream_of_the_right_user_and_no_other_receives_the_activated_ticket(
    gateway: Gateway,
) -> None:
    holder, someone_else = _user(), _user()
    async with gateway.sse(holder) as mine, gateway.sse(someone_else) as theirs:
        assert mine.status == 200
        assert mine.response_headers["content-type"].startswith("text/event-stream")
        assert mine.response_headers["x-accel-buffering"] == "no"
        event = gateway.activated(user_id=holder)

        await gateway.publish(event)

        received = await mine.next()
        assert received.event == "ticket.activated"
        notification = received.json()
        assert notification["event_id"] == str(event.event_id)
        assert notification["data"]["ticket_id"] == event.payload["ticket_id"]
        assert notification["data"]["attendance_code"] == "K7P3"
        assert "qr_payload" not in notification["data"]
        assert notification["title"] == "E-tiket Anda: Jakarta Jazz Night"
        await asyncio.sleep(3 * gateway.settings.stream_heartbeat_seconds)
        assert theirs.events.empty()
        assert theirs.comments >= 2  # heartbeats kept the other stream alive meanwhile


async def test_a_late_stream_with_last_event_id_gets_what_it_missed_and_nothing_twice(
    gateway: Gateway,
) -> None:
    holder = _user()
    first, second = gateway.activated(user_id=holder), gateway.activated(user_id=holder)
    async with gateway.sse(holder) as stream:
        await gateway.publish(first)
        seen = await stream.next()
    assert seen.json()["event_id"] == str(first.event_id)

    await gateway.publish(second)  # while the app is away
    await gateway.settled(second.event_id, count=2)

    async with gateway.sse(holder, last_event_id=seen.id) as resumed:
        missed = await resumed.next()
        assert missed.json()["event_id"] == str(second.event_id)
        assert missed.id > seen.id
        await asyncio.sleep(2 * gateway.settings.stream_heartbeat_seconds)
        assert resumed.events.empty()


async def test_a_new_stream_without_last_event_id_starts_with_what_comes_next(
    gateway: Gateway,
) -> None:
    holder = _user()
    old = gateway.activated(user_id=holder)
    await gateway.publish(old)
    await gateway.settled(old.event_id, count=2)

    async with gateway.sse(holder) as stream:
        new = gateway.activated(user_id=holder)
        await gateway.publish(new)
        received = await stream.next()
    assert received.json()["event_id"] == str(new.event_id)


async def test_every_open_stream_of_a_user_receives_each_notification(gateway: Gateway) -> None:
    holder = _user()
    async with gateway.sse(holder) as phone, gateway.sse(holder) as tablet:
        event = gateway.activated(user_id=holder)
        await gateway.publish(event)
        got = await asyncio.gather(phone.next(), tablet.next())
    assert [g.json()["event_id"] for g in got] == [str(event.event_id)] * 2
    assert got[0].id == got[1].id


async def test_the_stream_needs_a_token_and_a_valid_last_event_id(gateway: Gateway) -> None:
    response = await gateway.client.get("/notifications/stream")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_token"
    headers = {**gateway.auth(_user()), "Last-Event-ID": "not-an-id"}
    response = await gateway.client.get("/notifications/stream", headers=headers)
    # The published pattern refuses it like any other parameter that breaks the schema.
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert "Last-Event-ID" in response.json()["error"]["message"]


async def test_the_list_shows_the_callers_recent_notifications_newest_first(
    gateway: Gateway,
) -> None:
    holder = _user()
    events = [gateway.activated(user_id=holder) for _ in range(3)]
    for event in events:
        await gateway.publish(event)
        await gateway.settled(event.event_id, count=2)

    page = (
        await gateway.client.get(
            "/notifications", params={"limit": 2}, headers=gateway.auth(holder)
        )
    ).json()
    rest = (
        await gateway.client.get(
            "/notifications",
            params={"limit": 2, "cursor": page["next_cursor"]},
            headers=gateway.auth(holder),
        )
    ).json()
    other = (await gateway.client.get("/notifications", headers=gateway.auth(_user()))).json()

    listed = [n["event_id"] for n in page["data"] + rest["data"]]
    assert listed == [str(e.event_id) for e in reversed(events)]
    assert rest["next_cursor"] is None
    assert other == {"data": [], "next_cursor": None}


async def test_two_gateway_replicas_fan_out_through_redis(gateway: Gateway) -> None:
    """A stream opened on a second replica sees what the first replica delivered."""
    from notification_gateway.bootstrap import create_app
    from servicekit.testing import free_port

    replica_port = free_port()
    settings = gateway.settings.model_copy(update={"http_port": replica_port})
    server = gateway.server_for(create_app(settings), replica_port)
    await server.start(f"http://127.0.0.1:{replica_port}/readyz")
    try:
        holder = _user()
        replica_url = f"http://127.0.0.1:{replica_port}"
        async with (
            httpx.AsyncClient(base_url=replica_url) as client,
            gateway.sse(holder, client=client) as on_replica,
            gateway.sse(holder) as on_first,
        ):
            event = gateway.activated(user_id=holder)
            await gateway.publish(event)
            got = await asyncio.gather(on_replica.next(), on_first.next())
        assert {g.json()["event_id"] for g in got} == {str(event.event_id)}
        deliveries = await gateway.settled(event.event_id, count=2)
        assert [d["attempts"] for d in deliveries] == [1, 1]

        # Both replicas race for a burst of events: each e-mail goes out once.
        burst = [gateway.activated() for _ in range(20)]
        await asyncio.gather(*(gateway.publish(e) for e in burst))
        for e in burst:
            rows = await gateway.settled(e.event_id, count=2)
            assert [(r["status"], r["attempts"]) for r in rows] == [("sent", 1), ("sent", 1)]
        for e in burst:
            assert len(await gateway.mails_to(e.payload["holder_email"])) == 1
    finally:
        await server.stop()


async def test_many_open_streams_each_get_only_their_users_notification(gateway: Gateway) -> None:
    users = [_user() for _ in range(20)]
    async with contextlib.AsyncExitStack() as stack:
        streams = [
            (user, await stack.enter_async_context(gateway.sse(user)))
            for user in users
            for _ in range(2)  # two devices each
        ]
        events = {user: gateway.activated(user_id=user) for user in users}

        await asyncio.gather(*(gateway.publish(e) for e in events.values()))

        received = await asyncio.gather(*(s.next() for _, s in streams))
        await asyncio.sleep(2 * gateway.settings.stream_heartbeat_seconds)
        assert all(s.events.empty() for _, s in streams)
    for (user, _), got in zip(streams, received, strict=True):
        assert got.json()["event_id"] == str(events[user].event_id)
