"""Consuming an event: record what each person is told and log a pending delivery per channel.

Runs inside the inbox transaction, so it only writes rows; the sending happens after commit in
the delivery job (`service_layer.delivery`), which the commit wakes through PostgreSQL NOTIFY.
"""

from dataclasses import dataclass

from ticketing_contracts import EventEnvelope, parse_payload

from notification_gateway.domain.model import Channel, Language, Recipient
from notification_gateway.domain.notifications import DeliveryTarget, NewNotification
from notification_gateway.service_layer.compose import (
    NOTIFIED_EVENTS,
    addressed_to,
    compose,
    public_data,
    recipients,
)
from notification_gateway.service_layer.ports import NotificationLog


@dataclass(frozen=True)
class RecordingPolicy:
    default_language: Language
    push_enabled: bool


async def record_notifications(
    log: NotificationLog, envelope: EventEnvelope, *, policy: RecordingPolicy
) -> int:
    """How many deliveries this event added (0 when it told everyone already)."""
    payload = parse_payload(envelope)
    if not isinstance(payload, NOTIFIED_EVENTS):
        return 0
    added = 0
    for recipient in recipients(payload):
        language = await log.language_of(recipient.user_id) or policy.default_language
        seen = addressed_to(payload, recipient.user_id)
        message = compose(seen, recipient.audience, language, recipient_id=recipient.user_id)
        notification_id = await log.add_notification(
            NewNotification(
                event_id=envelope.event_id,
                event_type=envelope.event_type,
                event_version=envelope.version,
                user_id=recipient.user_id,
                audience=recipient.audience,
                language=language,
                title=message.title,
                body=message.body,
                data=public_data(seen),
                payload=envelope.payload if seen is payload else seen.model_dump(mode="json"),
                occurred_at=envelope.occurred_at,
            )
        )
        if notification_id is None:
            continue
        for target in await _targets(log, recipient, push_enabled=policy.push_enabled):
            added += await log.add_delivery(
                notification_id=notification_id, event_id=envelope.event_id, target=target
            )
    if added:
        await log.wake_senders()
    return added


async def _targets(
    log: NotificationLog, recipient: Recipient, *, push_enabled: bool
) -> list[DeliveryTarget]:
    """Where each of the recipient's channels reaches them: stream, address, every device."""
    targets: list[DeliveryTarget] = []
    if Channel.STREAM in recipient.channels:
        targets.append(DeliveryTarget(Channel.STREAM, recipient.user_id))
    if Channel.EMAIL in recipient.channels and recipient.email:
        address = recipient.email.strip().lower()
        targets.append(DeliveryTarget(Channel.EMAIL, address, recipient.collapse_key))
    if Channel.PUSH in recipient.channels and push_enabled:
        for device in await log.devices_of(recipient.user_id):
            targets.append(DeliveryTarget(Channel.PUSH, device.token, recipient.collapse_key))
    return targets
