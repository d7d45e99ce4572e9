"""Writing events in the caller's own transaction; the relay publishes them after commit."""

import asyncpg
from ticketing_contracts import EventEnvelope, EventPayload, new_event

from servicekit.correlation import current_correlation_id


class Outbox:
    def __init__(self, producer: str) -> None:
        self.producer = producer

    async def add(self, conn: asyncpg.Connection, payload: EventPayload) -> EventEnvelope:
        """Record `payload` as an event; call inside the transaction of the change it reports."""
        envelope = new_event(
            payload, producer=self.producer, correlation_id=current_correlation_id()
        )
        await add_envelope(conn, envelope)
        return envelope


OUTBOX_CHANNEL = "outbox"
"""NOTIFY channel of committed outbox rows: the relay LISTENs on it instead of waiting a poll."""

# The NOTIFY rides in the INSERT's own round trip and is delivered only at commit (and once per
# transaction: PostgreSQL folds equal notifications), so the relay wakes when the rows are there.
_ADD = """
    WITH added AS (
        INSERT INTO outbox (event_id, event_type, body) VALUES ($1, $2, $3) RETURNING 1
    )
    SELECT pg_notify('outbox', '') FROM added
"""


async def add_envelope(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
    await conn.execute(
        _ADD,
        envelope.event_id,
        envelope.event_type,
        envelope.model_dump(mode="json"),
    )
