"""What the use cases need from the outside, one line a method; `bootstrap.py` wires adapters."""

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol
from uuid import UUID

from notification_gateway.domain.model import Language, Message, Outcome, OutgoingEmail
from notification_gateway.domain.notifications import (
    Delivery,
    DeliveryTarget,
    Device,
    JsonObject,
    NewNotification,
    Notification,
    Platform,
)
from notification_gateway.domain.receipts import Receipt
from notification_gateway.domain.stream import StreamEntry


class Preferences(Protocol):
    async def language_of(self, user_id: str) -> Language | None: ...

    async def set_language(self, *, user_id: str, language: Language) -> None: ...


class Devices(Protocol):
    async def register_device(
        self, *, user_id: str, token: str, platform: Platform
    ) -> Device | None:
        """The caller's device, new or refreshed; None when the token is another user's."""

    async def devices_of(self, user_id: str) -> list[Device]: ...

    async def remove_device(self, *, user_id: str, token: str) -> bool: ...


class NotificationHistory(Protocol):
    async def recent_notifications(
        self, *, user_id: str, limit: int, before_id: int | None
    ) -> list[Notification]: ...


class NotificationLog(Preferences, Devices, Protocol):
    """The consumer's writes, inside the inbox transaction."""

    async def add_notification(self, notification: NewNotification) -> int | None:
        """The new notification's id, or None when this event already told this person."""

    async def add_delivery(
        self, *, notification_id: int, event_id: UUID, target: DeliveryTarget
    ) -> bool:
        """Log a pending delivery; False when one exists (same event, or same collapse key)."""

    async def wake_senders(self) -> None:
        """Wake the delivery job of every replica once this transaction commits."""


class DeliveryLog(Protocol):
    async def claim_due_deliveries(self, *, limit: int, lease_seconds: float) -> list[Delivery]: ...

    async def mark_sent(self, delivery_id: int) -> None: ...

    async def mark_failed(self, delivery_id: int, *, error: str) -> None: ...

    async def schedule_retry(
        self, delivery_id: int, *, error: str, delay_seconds: float
    ) -> None: ...

    async def drop_device(self, token: str) -> None: ...


DeliveryLogs = Callable[[], AbstractAsyncContextManager[DeliveryLog]]
"""A delivery log on a connection of its own, for as long as the block lasts."""


class Mailer(Protocol):
    async def send(self, email: OutgoingEmail) -> Outcome: ...


class PushSender(Protocol):
    async def send(self, *, token: str, title: str, body: str, data: dict[str, str]) -> Outcome: ...


class Receipts(Protocol):
    async def receipt_of(self, purchase_order_id: str, language: Language) -> Receipt | None:
        """None when the order has no receipt (free, unknown); ReceiptUnavailable when the
        answer cannot be had now."""


class EmailRenderer(Protocol):
    def __call__(
        self, message: Message, *, language: Language, sender: str, recipient: str, message_key: str
    ) -> OutgoingEmail: ...


class StreamWriter(Protocol):
    async def append(
        self, *, user_id: str, delivery_id: int, event: str, notification: JsonObject
    ) -> str | None:
        """The new entry's id; None when this delivery was appended before."""


class StreamReader(Protocol):
    async def last_id(self, user_id: str) -> str: ...

    async def read_after(self, user_id: str, after_id: str) -> list[StreamEntry]: ...

    async def read_many(
        self, cursors: dict[str, str], *, block_ms: int | None, wake_key: str | None = None
    ) -> dict[str, list[StreamEntry]]: ...

    async def nudge(self, wake_key: str) -> None: ...
