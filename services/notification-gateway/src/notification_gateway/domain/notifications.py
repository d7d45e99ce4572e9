"""What the gateway keeps: a notification per (event, person), its deliveries, devices."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from notification_gateway.domain.model import Audience, Channel, Language

JsonObject = dict[str, object]
"""An event payload as JSON, validated again by its contract model where it is read."""


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Platform(StrEnum):
    ANDROID = "android"
    IOS = "ios"
    WEB = "web"


@dataclass(frozen=True)
class NotificationContent:
    """What one person is told of one event, in their language."""

    event_id: UUID
    event_type: str
    event_version: int
    user_id: str
    audience: Audience
    language: Language
    title: str
    body: str
    data: dict[str, str]
    occurred_at: datetime


@dataclass(frozen=True)
class NewNotification(NotificationContent):
    """A notification to record; the event's payload travels with it for the e-mail."""

    payload: JsonObject


@dataclass(frozen=True)
class Notification(NotificationContent):
    """A recorded notification, as the list, the stream and the senders see it."""

    id: int
    created_at: datetime

    def public(self) -> JsonObject:
        """As the list and the live stream show it."""
        return {
            "id": self.id,
            "event_id": str(self.event_id),
            "event_type": self.event_type,
            "audience": self.audience.value,
            "language": self.language,
            "title": self.title,
            "body": self.body,
            "data": self.data,
            "occurred_at": self.occurred_at.isoformat(),
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class DeliveryTarget:
    """Where one channel reaches a person: their stream, an address, a device token."""

    channel: Channel
    target: str
    collapse_key: str | None = None


@dataclass(frozen=True)
class Delivery:
    """A claimed delivery: one attempt at sending `notification` over `channel` to `target`."""

    id: int
    channel: Channel
    target: str
    attempts: int
    notification: Notification
    payload: JsonObject


@dataclass(frozen=True)
class Device:
    token: str
    platform: Platform
    created_at: datetime
    updated_at: datetime


class DeviceNotFound(Exception):
    def __init__(self) -> None:
        super().__init__("You have no device with this token.")


class DeviceTokenTaken(Exception):
    def __init__(self) -> None:
        super().__init__("This device token belongs to another user.")
