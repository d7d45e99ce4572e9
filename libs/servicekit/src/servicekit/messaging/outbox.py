"""Writing events in the caller's own transaction; the relay publishes them after commit."""

from collections.abc import Sequence

import asyncpg
from ticketing_contracts import EventEnvelope, EventPayload, new_event

from servicekit.correlation import current_correlation_id


class Outbox:
    def __init__(self, producer: str) -> None:
        self.producer = producer

    async def add(self, conn: asyncpg.Connection, payload: EventPayload) -> EventEnvelope:
        """Record `payload` as an event; call inside the transaction of the change it reports."""
        [envelope] = await self.add_all(conn, [payload])
        return envelope

    async def add_all(
        self, conn: asyncpg.Connection, payloads: Sequence[EventPayload]
    ) -> list[EventEnvelope]:
        """Several events of one change, in one round trip."""
        correlation_id = current_correlation_id()
        envelopes = [
            new_event(payload, producer=self.producer, correlation_id=correlation_id)
            for payload in payloads
        ]
        await add_envelopes(conn, envelopes)
        return envelopes


OUTBOX_CHANNEL = "outbox"
"""NOTIFY channel of committed outbox rows: the relay LISTENs on it instead of waiting a poll."""

# The NOTIFY rides in the INSERT's own round trip and is delivered only at commit (and once per
# transaction: PostgreSQL folds equal notifications), so the relay wakes when the rows are there.
_ADD = """
    WITH added AS (
        INSERT INTO outbox (event_id, event_type, body)
        SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[])
        RETURNING 1
    )
    SELECT pg_notify('outbox', '') FROM added LIMIT 1
"""


async def add_envelopes(conn: asyncpg.Connection, envelopes: Sequence[EventEnvelope]) -> None:
    if envelopes:
        await conn.execute(
            _ADD,
            [envelope.event_id for envelope in envelopes],
            [envelope.event_type for envelope in envelopes],
            [envelope.model_dump(mode="json") for envelope in envelopes],
        )


async def add_envelope(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
    await add_envelopes(conn, [envelope])
