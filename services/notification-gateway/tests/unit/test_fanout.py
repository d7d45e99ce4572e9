"""An event fanned out to notifications and pending deliveries, and a person's own settings,
on an in-memory store: the consumer's and the routes' use cases without PostgreSQL."""

import itertools
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest
from notification_gateway.domain.model import Audience, Channel, Language
from notification_gateway.domain.notifications import (
    DeliveryTarget,
    Device,
    DeviceNotFound,
    DeviceTokenTaken,
    NewNotification,
    Notification,
    NotificationContent,
    Platform,
)
from notification_gateway.service_layer import accounts
from notification_gateway.service_layer.compose import NOTIFIED_EVENTS
from notification_gateway.service_layer.handlers import RecordingPolicy, record_notifications
from ticketing_contracts import EventEnvelope
from ticketing_contracts.routing import NOTIFICATION_GATEWAY_ALL

SAMPLES = Path(__file__).resolve().parents[4] / "libs" / "contracts" / "samples"
T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
PUSH_ON = RecordingPolicy(default_language="id", push_enabled=True)


@dataclass
class InMemoryNotifications:
    """The tables' unique keys, as the SQL adapter's ON CONFLICT DO NOTHING keeps them."""

    notifications: dict[int, NewNotification] = field(default_factory=dict)
    deliveries: list[tuple[UUID, DeliveryTarget]] = field(default_factory=list)
    languages: dict[str, Language] = field(default_factory=dict)
    devices: dict[str, tuple[str, Device]] = field(default_factory=dict)
    wakes: int = 0
    ids: "itertools.count[int]" = field(default_factory=lambda: itertools.count(1))

    async def language_of(self, user_id: str) -> Language | None:
        return self.languages.get(user_id)

    async def set_language(self, *, user_id: str, language: Language) -> None:
        self.languages[user_id] = language

    async def register_device(
        self, *, user_id: str, token: str, platform: Platform
    ) -> Device | None:
        if token in self.devices and self.devices[token][0] != user_id:
            return None
        created = self.devices[token][1].created_at if token in self.devices else T0
        device = Device(token, platform, created, T0)
        self.devices[token] = (user_id, device)
        return device

    async def devices_of(self, user_id: str) -> list[Device]:
        return [device for owner, device in self.devices.values() if owner == user_id]

    async def remove_device(self, *, user_id: str, token: str) -> bool:
        if self.devices.get(token, ("", None))[0] != user_id:
            return False
        del self.devices[token]
        return True

    async def recent_notifications(
        self, *, user_id: str, limit: int, before_id: int | None
    ) -> list[Notification]:
        found = [
            _stored(id_, n)
            for id_, n in sorted(self.notifications.items(), reverse=True)
            if n.user_id == user_id and (before_id is None or id_ < before_id)
        ]
        return found[:limit]

    async def add_notification(self, notification: NewNotification) -> int | None:
        if any(
            (n.event_id, n.user_id) == (notification.event_id, notification.user_id)
            for n in self.notifications.values()
        ):
            return None
        notification_id = next(self.ids)
        self.notifications[notification_id] = notification
        return notification_id

    async def add_delivery(
        self, *, notification_id: int, event_id: UUID, target: DeliveryTarget
    ) -> bool:
        assert notification_id in self.notifications
        for logged_event, logged in self.deliveries:
            same_event = (logged_event, logged.channel, logged.target) == (
                event_id,
                target.channel,
                target.target,
            )
            collapsed = target.collapse_key is not None and (
                logged.channel,
                logged.target,
                logged.collapse_key,
            ) == (target.channel, target.target, target.collapse_key)
            if same_event or collapsed:
                return False
        self.deliveries.append((event_id, target))
        return True

    async def wake_senders(self) -> None:
        self.wakes += 1

    def targets(self) -> list[tuple[Channel, str]]:
        return [(target.channel, target.target) for _, target in self.deliveries]


def _stored(notification_id: int, new: NewNotification) -> Notification:
    content = {f.name: getattr(new, f.name) for f in fields(NotificationContent)}
    return Notification(id=notification_id, created_at=T0, **content)


def sample(event_type: str, version: int = 1) -> EventEnvelope:
    path = SAMPLES / f"{event_type}.v{version}.json"
    return EventEnvelope.model_validate_json(path.read_text())


def another(envelope: EventEnvelope) -> EventEnvelope:
    return envelope.model_copy(update={"event_id": UUID(int=envelope.event_id.int + 1)})


async def test_an_activated_ticket_reaches_the_holder_on_every_channel_and_wakes_senders() -> None:
    store = InMemoryNotifications()
    await store.register_device(user_id="user-42", token="phone-token-1", platform=Platform.IOS)

    added = await record_notifications(store, sample("ticket.activated"), policy=PUSH_ON)

    assert added == 3
    assert store.targets() == [
        (Channel.STREAM, "user-42"),
        (Channel.EMAIL, "siti@example.id"),
        (Channel.PUSH, "phone-token-1"),
    ]
    (notification,) = store.notifications.values()
    assert (notification.user_id, notification.audience) == ("user-42", Audience.HOLDER)
    assert notification.title == "E-tiket Anda: Jakarta Jazz Night"
    assert store.wakes == 1


async def test_the_message_is_in_the_language_the_person_chose() -> None:
    store = InMemoryNotifications(languages={"user-42": "en"})
    await record_notifications(store, sample("ticket.activated"), policy=PUSH_ON)
    (notification,) = store.notifications.values()
    assert notification.language == "en"
    assert notification.title == "Your e-ticket: Jakarta Jazz Night"


async def test_push_turned_off_logs_no_push_delivery() -> None:
    store = InMemoryNotifications()
    await store.register_device(user_id="user-42", token="phone-token-1", platform=Platform.IOS)
    off = RecordingPolicy(default_language="id", push_enabled=False)
    await record_notifications(store, sample("ticket.activated"), policy=off)
    assert Channel.PUSH not in {channel for channel, _ in store.targets()}


async def test_a_redelivered_event_adds_nothing_and_wakes_nobody() -> None:
    store = InMemoryNotifications()
    await record_notifications(store, sample("ticket.activated"), policy=PUSH_ON)
    assert await record_notifications(store, sample("ticket.activated"), policy=PUSH_ON) == 0
    assert len(store.notifications) == 1
    assert store.wakes == 1


async def test_a_cancellation_tells_the_holder_and_the_host_without_mailing_the_host() -> None:
    store = InMemoryNotifications()
    await record_notifications(store, sample("ticket.cancelled"), policy=PUSH_ON)
    audiences = {n.user_id: n.audience for n in store.notifications.values()}
    assert audiences == {"user-42": Audience.HOLDER, "host-7": Audience.HOST}
    assert (Channel.STREAM, "host-7") in store.targets()
    assert [t for c, t in store.targets() if c is Channel.EMAIL] == ["siti@example.id"]


async def test_a_hold_that_ended_is_mailed_once_though_two_events_say_so() -> None:
    store = InMemoryNotifications()
    await record_notifications(store, sample("ticket.expired"), policy=PUSH_ON)
    await record_notifications(store, another(sample("payment.failed")), policy=PUSH_ON)
    assert len(store.notifications) == 2
    assert [t for c, t in store.targets() if c is Channel.EMAIL] == ["siti@example.id"]
    assert [t for c, t in store.targets() if c is Channel.STREAM] == ["user-42", "user-42"]


async def test_an_event_the_gateway_does_not_tell_anyone_is_ignored() -> None:
    store = InMemoryNotifications()
    assert await record_notifications(store, sample("payment.settled"), policy=PUSH_ON) == 0
    assert store.notifications == {}
    assert store.wakes == 0


async def test_the_e_mail_address_is_normalised_before_it_is_logged() -> None:
    store = InMemoryNotifications()
    envelope = sample("ticket.activated")
    shouting = envelope.model_copy(
        update={"payload": {**envelope.payload, "holder_email": " Siti@Example.ID "}}
    )
    await record_notifications(store, shouting, policy=PUSH_ON)
    assert (Channel.EMAIL, "siti@example.id") in store.targets()


# --- the routes' use cases ----------------------------------------------------------------------


async def test_notification_pages_continue_below_the_last_one_while_pages_are_full() -> None:
    store = InMemoryNotifications()
    envelope = sample("ticket.activated")
    for _ in range(3):
        await record_notifications(store, envelope, policy=PUSH_ON)
        envelope = another(envelope)

    first = await accounts.notifications_page(store, user_id="user-42", limit=2, cursor=None)
    assert [n.id for n in first.notifications] == [3, 2]
    assert first.next_cursor == "2"
    rest = await accounts.notifications_page(
        store, user_id="user-42", limit=2, cursor=first.next_cursor
    )
    assert [n.id for n in rest.notifications] == [1]
    assert rest.next_cursor is None


async def test_removing_a_device_of_someone_else_is_refused() -> None:
    store = InMemoryNotifications()
    await accounts.register_device(
        store, user_id="user-42", token="phone-token-1", platform=Platform.ANDROID
    )
    with pytest.raises(DeviceNotFound):
        await accounts.remove_device(store, user_id="user-7", token="phone-token-1")
    await accounts.remove_device(store, user_id="user-42", token="phone-token-1")
    assert await store.devices_of("user-42") == []


async def test_a_person_without_a_choice_reads_the_default_language() -> None:
    store = InMemoryNotifications(languages={"user-42": "en"})
    assert await accounts.language_of(store, user_id="user-42", default_language="id") == "en"
    assert await accounts.language_of(store, user_id="user-7", default_language="id") == "id"


async def test_another_users_device_token_is_refused_and_stays_with_its_owner() -> None:
    store = InMemoryNotifications()
    await accounts.register_device(
        store, user_id="user-42", token="phone-token-1", platform=Platform.ANDROID
    )
    with pytest.raises(DeviceTokenTaken):
        await accounts.register_device(
            store, user_id="user-7", token="phone-token-1", platform=Platform.IOS
        )
    refreshed = await accounts.register_device(
        store, user_id="user-42", token="phone-token-1", platform=Platform.IOS
    )
    assert refreshed.platform is Platform.IOS
    assert await store.devices_of("user-7") == []


def test_the_queue_hears_exactly_the_events_someone_is_told_of() -> None:
    told = {model.EVENT_TYPE for model in NOTIFIED_EVENTS}
    assert set(NOTIFICATION_GATEWAY_ALL.routing_keys) == told
