"""Push in FCM's HTTP v1 format to a real HTTP receiver; device registration over HTTP."""

import uuid
from typing import Any

Gateway = Any


def _user() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"


async def _register(gateway: Gateway, user: str, token: str) -> None:
    response = await gateway.client.post(
        "/notifications/devices",
        json={"token": token, "platform": "android"},
        headers=gateway.auth(user),
    )
    assert response.status_code == 201, response.text


async def test_a_push_request_in_fcm_format_reaches_the_receiver(gateway: Gateway) -> None:
    user, token = _user(), f"ok-{uuid.uuid4().hex}"
    await _register(gateway, user, token)
    event = gateway.activated(user_id=user)

    await gateway.publish(event)

    deliveries = await gateway.settled(event.event_id, count=3)
    assert {(d["channel"], d["status"]) for d in deliveries} == {
        ("email", "sent"),
        ("stream", "sent"),
        ("push", "sent"),
    }
    [request] = gateway.fcm.for_token(token)
    assert request["project"] == "ticketing-test"
    assert request["headers"]["authorization"] == "Bearer test-fcm-token"
    message = request["body"]["message"]
    assert message["notification"] == {
        "title": "E-tiket Anda: Jakarta Jazz Night",
        "body": "Tiket Anda untuk Jakarta Jazz Night sudah aktif. Kode kehadiran: K7P3.",
    }
    assert message["data"]["event_type"] == "ticket.activated"
    assert message["data"]["ticket_id"] == event.payload["ticket_id"]
    assert all(isinstance(v, str) for v in message["data"].values())
    assert "qr_payload" not in message["data"]


async def test_a_token_fcm_reports_unregistered_is_dropped(gateway: Gateway) -> None:
    user, dead, alive = _user(), f"dead-{uuid.uuid4().hex}", f"ok-{uuid.uuid4().hex}"
    await _register(gateway, user, dead)
    await _register(gateway, user, alive)
    event = gateway.activated(user_id=user)

    await gateway.publish(event)

    deliveries = await gateway.settled(event.event_id, count=4)
    by_target = {d["target"]: d for d in deliveries if d["channel"] == "push"}
    assert by_target[dead]["status"] == "failed"
    assert by_target[dead]["attempts"] == 1
    assert "UNREGISTERED" in by_target[dead]["last_error"]
    assert by_target[alive]["status"] == "sent"
    devices = (
        await gateway.client.get("/notifications/devices", headers=gateway.auth(user))
    ).json()
    assert [d["token"] for d in devices["data"]] == [alive]


async def test_fcm_5xx_is_retried_and_a_push_that_never_gets_through_is_recorded(
    gateway: Gateway,
) -> None:
    user, flaky, down = _user(), f"flaky-{uuid.uuid4().hex}", f"down-{uuid.uuid4().hex}"
    await _register(gateway, user, flaky)
    await _register(gateway, user, down)
    event = gateway.activated(user_id=user)

    await gateway.publish(event)

    deliveries = await gateway.settled(event.event_id, count=4)
    by_target = {d["target"]: d for d in deliveries}
    assert (by_target[flaky]["status"], by_target[flaky]["attempts"]) == ("sent", 3)
    assert (by_target[down]["status"], by_target[down]["attempts"]) == ("failed", 3)
    assert "503" in by_target[down]["last_error"]
    assert len(gateway.fcm.for_token(down)) == 3
    assert by_target[event.payload["holder_email"]]["status"] == "sent"


async def test_a_removed_device_gets_no_more_pushes(gateway: Gateway) -> None:
    user, token = _user(), f"ok-{uuid.uuid4().hex}"
    await _register(gateway, user, token)
    removed = await gateway.client.delete(
        f"/notifications/devices/{token}", headers=gateway.auth(user)
    )
    again = await gateway.client.delete(
        f"/notifications/devices/{token}", headers=gateway.auth(user)
    )
    event = gateway.activated(user_id=user)

    await gateway.publish(event)

    await gateway.settled(event.event_id, count=2)  # e-mail and stream only
    assert removed.status_code == 204
    assert again.status_code == 404
    assert gateway.fcm.for_token(token) == []


async def test_a_host_hears_of_a_cancelled_seat_on_push_and_stream(gateway: Gateway) -> None:
    from ticketing_contracts import TicketCancelled, new_event

    holder, host, host_token = _user(), _user(), f"ok-{uuid.uuid4().hex}"
    await _register(gateway, host, host_token)
    activated = gateway.activated(user_id=holder, host_id=host).payload
    cancelled = new_event(
        TicketCancelled.model_validate(
            {
                **activated,
                "cancelled_at": "2026-12-02T08:00:00+07:00",
                "cancelled_by": holder,
                "reason": "holder_cancelled",
            }
        ),
        producer="ticket-service",
    )
    async with gateway.sse(host) as host_stream:
        await gateway.publish(cancelled)
        seen = await host_stream.next()

    assert seen.event == "ticket.cancelled"
    assert seen.json()["audience"] == "host"
    deliveries = await gateway.settled(cancelled.event_id, count=4)
    assert {(d["channel"], d["target"]) for d in deliveries} == {
        ("email", activated["holder_email"]),
        ("stream", holder),
        ("stream", host),
        ("push", host_token),
    }
    [push] = gateway.fcm.for_token(host_token)
    assert push["body"]["message"]["notification"]["title"].startswith("Kursi dibatalkan")
