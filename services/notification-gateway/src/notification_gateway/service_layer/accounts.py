"""A person's own settings and history: device tokens, language, the notification list."""

from dataclasses import dataclass

from notification_gateway.domain.model import Language
from notification_gateway.domain.notifications import (
    Device,
    DeviceNotFound,
    DeviceTokenTaken,
    Notification,
    Platform,
)
from notification_gateway.service_layer.ports import Devices, NotificationHistory, Preferences


@dataclass(frozen=True)
class NotificationPage:
    notifications: list[Notification]
    next_cursor: str | None


async def notifications_page(
    history: NotificationHistory, *, user_id: str, limit: int, cursor: str | None
) -> NotificationPage:
    """Newest first; `next_cursor` continues below the last one while pages come full."""
    found = await history.recent_notifications(
        user_id=user_id, limit=limit, before_id=int(cursor) if cursor else None
    )
    next_cursor = str(found[-1].id) if len(found) == limit else None
    return NotificationPage(found, next_cursor)


async def register_device(
    devices: Devices, *, user_id: str, token: str, platform: Platform
) -> Device:
    """Registers or refreshes one of the caller's devices; another user's token is refused.

    A phone that changes hands unregisters on sign-out first; pushes never go to whoever
    claims a token last.
    """
    device = await devices.register_device(user_id=user_id, token=token, platform=platform)
    if device is None:
        raise DeviceTokenTaken()
    return device


async def remove_device(devices: Devices, *, user_id: str, token: str) -> None:
    if not await devices.remove_device(user_id=user_id, token=token):
        raise DeviceNotFound()


async def language_of(
    preferences: Preferences, *, user_id: str, default_language: Language
) -> Language:
    return await preferences.language_of(user_id) or default_language
