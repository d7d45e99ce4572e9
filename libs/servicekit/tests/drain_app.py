"""A service run as a real process by test_graceful_shutdown: slow requests, slow handlers.

`POST /orders/{order_id}` takes 0.3 s, stores the order and writes a `ticket.checked_in` event
to the outbox. The consumer takes `payment.settled` from ticket-service's queue; each handler
marks that it started (outside the transaction), takes 0.2 s and records its effect.
Run: `python drain_app.py` with the ServiceSettings environment (served by servicekit.serve).
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import asyncpg
from fastapi import APIRouter, FastAPI, Request
from servicekit.app import Runtime, ServiceParts, build_app
from servicekit.db import DbConn
from servicekit.messaging import Consumer
from servicekit.serve import serve
from servicekit.settings import ServiceSettings
from ticketing_contracts import EventEnvelope, TicketCheckedIn
from ticketing_contracts.routing import TICKET_SERVICE_PAYMENTS

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (order_id text PRIMARY KEY);
CREATE TABLE IF NOT EXISTS handler_started (event_id uuid, at timestamptz DEFAULT now());
CREATE TABLE IF NOT EXISTS effects (event_id uuid, note text);
"""


def checked_in(order_id: str) -> TicketCheckedIn:
    return TicketCheckedIn(
        ticket_id=order_id,
        event_id="event-1",
        user_id="user-1",
        order_id=order_id,
        attendance_code="A2B3",
        holder_name="Siti",
        holder_email="siti@example.id",
        event_title="Jakarta Jazz Night",
        event_starts_at=datetime(2026, 12, 20, 12, tzinfo=UTC),
        checked_in_at=datetime.now(UTC),
        checked_in_by="host-1",
    )


def create_app(settings: ServiceSettings) -> FastAPI:
    router = APIRouter()

    @router.post("/orders/{order_id}")
    async def create_order(order_id: str, request: Request, conn: DbConn) -> dict[str, str]:
        await asyncio.sleep(0.3)
        async with conn.transaction():
            await conn.execute("INSERT INTO orders (order_id) VALUES ($1)", order_id)
            await request.app.state.runtime.outbox.add(conn, checked_in(order_id))
        return {"order_id": order_id}

    async def on_settled(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        pool: asyncpg.Pool = runtime_holder["runtime"].pool
        await pool.execute("INSERT INTO handler_started (event_id) VALUES ($1)", envelope.event_id)
        await asyncio.sleep(0.2)
        await conn.execute(
            "INSERT INTO effects (event_id, note) VALUES ($1, 'applied')", envelope.event_id
        )

    runtime_holder: dict[str, Runtime] = {}

    @asynccontextmanager
    async def setup(app: FastAPI, runtime: Runtime) -> AsyncIterator[ServiceParts]:
        runtime_holder["runtime"] = runtime
        await runtime.pool.execute(SCHEMA)
        yield ServiceParts(
            consumers=[
                Consumer("drain-demo", TICKET_SERVICE_PAYMENTS, {"payment.settled": on_settled})
            ]
        )

    return build_app(settings, title="drain demo", routers=[router], setup=setup)


if __name__ == "__main__":
    settings = ServiceSettings()
    serve(create_app(settings), settings)
