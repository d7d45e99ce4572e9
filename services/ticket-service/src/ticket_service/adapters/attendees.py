"""The attendee export's rows, read through a server-side cursor (constant memory)."""

from collections.abc import AsyncIterator

import asyncpg

from ticket_service.adapters.rows import Record


async def attendee_rows(conn: asyncpg.Connection, event_id: str) -> AsyncIterator[Record]:
    async with conn.transaction():
        async for row in conn.cursor(
            """SELECT id::text AS ticket_id, attendance_code, ticket_type_id, holder_name,
                      holder_email, holder_phone, status, checked_in_at, is_inside
                 FROM tickets WHERE event_id = $1 AND status <> 'pending'
                ORDER BY purchased_at, id""",
            event_id,
            prefetch=500,
        ):
            yield row
