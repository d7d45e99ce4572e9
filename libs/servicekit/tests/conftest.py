"""Real PostgreSQL and RabbitMQ for the runtime's tests: database and vhost `servicekit_test`."""

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aio_pika
import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection
from servicekit.db import open_pool
from servicekit.messaging import declare_topology
from servicekit.migrations import apply_migrations
from servicekit.testing import create_database, fresh_vhost
from ticketing_contracts import CONSUMER_QUEUES

# Test modules import their helpers (messaging_helpers) from this folder.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
async def database_url() -> str:
    return await create_database("servicekit_test")


@pytest.fixture(scope="session")
def amqp_url() -> str:
    return fresh_vhost("servicekit_test")


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await open_pool(database_url, min_size=2, max_size=20)
    await apply_migrations(pool)
    await pool.execute("CREATE TABLE IF NOT EXISTS effects (event_id uuid, note text)")
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
async def amqp(amqp_url: str) -> AsyncIterator[AbstractRobustConnection]:
    connection = await aio_pika.connect_robust(amqp_url, reconnect_interval=0.5)
    async with connection.channel() as channel:
        await declare_topology(channel)
    yield connection
    await connection.close()


@pytest.fixture(autouse=True)
async def clean_state(request: pytest.FixtureRequest) -> None:
    """Empty tables and queues before each test that uses them."""
    if "pool" in request.fixturenames:
        db: asyncpg.Pool = request.getfixturevalue("pool")
        await db.execute("TRUNCATE outbox, inbox, effects")
    if "amqp" in request.fixturenames:
        connection: AbstractRobustConnection = request.getfixturevalue("amqp")
        async with connection.channel() as channel:
            for binding in CONSUMER_QUEUES:
                for name in (binding.queue, binding.dead_letter_queue):
                    queue = await channel.get_queue(name, ensure=False)
                    await queue.purge()
