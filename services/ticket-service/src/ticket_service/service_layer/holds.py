"""Expiring unpaid holds: the seat goes back on sale and `ticket.expired` tells payment-service.

Safe with several replicas: each run claims due tickets with FOR UPDATE SKIP LOCKED, so two
sweepers never expire the same ticket, and a payment being applied to a ticket (which holds its
row lock) is never raced.
"""

import logging
from collections import Counter
from datetime import UTC, datetime

import asyncpg
from servicekit.logs import log_fields
from servicekit.messaging import Outbox

from ticket_service.adapters import repository as repo
from ticket_service.service_layer import ticket_events

logger = logging.getLogger(__name__)


async def expire_unpaid_holds(
    pool: asyncpg.Pool, outbox: Outbox, *, batch_size: int = 200, now: datetime | None = None
) -> int:
    """Expire one batch of due holds; returns how many tickets expired."""
    now = now or datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        expired = await repo.claim_expired_holds(conn, now, batch_size)
        if not expired:
            return 0
        ticket_ids = [row["id"] for row in expired]
        per_event = Counter(row["event_id"] for row in expired)
        for event_id in sorted(per_event):
            await repo.move_seats(conn, event_id, held=-per_event[event_id])
        await repo.cancel_transactions_of(conn, ticket_ids, now)
        for ticket_id in ticket_ids:
            view = await repo.ticket_view(conn, ticket_id)
            assert view is not None
            await ticket_events.ticket_expired(conn, outbox, view, now)
    logger.info("expired unpaid holds", extra=log_fields(count=len(ticket_ids)))
    return len(ticket_ids)
