"""The envelope every message travels in, and how to make and read one."""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field

from ticketing_contracts.events import PAYLOAD_MODELS, EventPayload


class EventEnvelope(BaseModel):
    """`payload` stays a plain dict here; `parse_payload` gives the typed model for its version."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_id: UUID
    event_type: str
    version: int = Field(ge=1)
    occurred_at: datetime
    producer: str
    correlation_id: str | None = None
    payload: dict[str, Any]


def new_event(
    payload: EventPayload,
    *,
    producer: str,
    correlation_id: str | None = None,
    occurred_at: datetime | None = None,
) -> EventEnvelope:
    """Wrap a payload; the event type and version come from the payload's class."""
    return EventEnvelope(
        event_id=uuid4(),
        event_type=payload.EVENT_TYPE,
        version=payload.VERSION,
        occurred_at=occurred_at or datetime.now(UTC),
        producer=producer,
        correlation_id=correlation_id,
        payload=payload.model_dump(mode="json"),
    )


def parse_payload(envelope: EventEnvelope) -> EventPayload:
    """The typed payload; raises KeyError for an event type/version nobody defined."""
    model = PAYLOAD_MODELS[(envelope.event_type, envelope.version)]
    return model.model_validate(envelope.payload)
