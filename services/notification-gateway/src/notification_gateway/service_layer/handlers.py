"""Consuming an event: record what each person is told and log a pending delivery per channel.

Runs inside the inbox transaction, so it only writes rows; the sending happens after commit in
the delivery job (`service_layer.delivery`), which the commit wakes through PostgreSQL NOTIFY.
"""

from dataclasses import dataclass

import asyncpg
from ticketing_contracts import EventEnvelope, parse_payload

from notification_gateway.adapters import repository
from notification_gateway.domain.model import Channel, Language, Recipient
from notification_gateway.service_layer.compose import (
    NOTIFIED_EVENTS,
    compose,
    public_data,
    recipients,
)


@dataclass(frozen=True)
class RecordingPolicy:
    default_language: Language
    push_enabled: bool


async def record_notifications(
    conn: asyncpg.Connection, envelope: EventEnvelope, *, policy: RecordingPolicy
) -> int:
    """How many deliveries this event added (0 when it told everyone already)."""
    payload = parse_payload(envelope)
    if not isinstance(payload, NOTIFIED_EVENTS):
        return 0
    added = 0
    for recipient in recipients(payload):
        language = await repository.language_of(conn, recipient.user_id) or policy.default_language
        message = compose(payload, recipient.audience, language)
        notification_id = await repository.add_notification(
            conn,
            event_id=envelope.event_id,
            event_type=envelope.event_type,
            event_version=envelope.version,
            user_id=recipient.user_id,
            audience=recipient.audience.value,
            language=language,
            title=message.title,
            body=message.body,
            data=public_data(payload),
            payload=envelope.payload,
            occurred_at=envelope.occurred_at,
        )
        if notification_id is None:
            continue
        added += await _log_deliveries(conn, envelope, recipient, notification_id, policy)
    if added:
        await repository.wake_senders(conn)
    return added


async def _log_deliveries(
    conn: asyncpg.Connection,
    envelope: EventEnvelope,
    recipient: Recipient,
    notification_id: int,
    policy: RecordingPolicy,
) -> int:
    targets: list[tuple[Channel, str, str | None]] = []
    if Channel.STREAM in recipient.channels:
        targets.append((Channel.STREAM, recipient.user_id, None))
    if Channel.EMAIL in recipient.channels and recipient.email:
        targets.append((Channel.EMAIL, recipient.email.strip().lower(), recipient.collapse_key))
    if Channel.PUSH in recipient.channels and policy.push_enabled:
        for device in await repository.devices_of(conn, recipient.user_id):
            targets.append((Channel.PUSH, device["token"], recipient.collapse_key))
    added = 0
    for channel, target, collapse_key in targets:
        added += await repository.add_delivery(
            conn,
            notification_id=notification_id,
            event_id=envelope.event_id,
            channel=channel,
            target=target,
            collapse_key=collapse_key,
        )
    return added
