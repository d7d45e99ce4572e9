"""The floor: FastAPI + asyncpg, one INSERT per request, one process; what the stack is held to.

`python floor_app.py PORT DSN` serves `POST /writes` (a JSON body in, one row written, its id
back) with uvicorn's defaults (uvloop and httptools when installed), as a service would.
"""

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import uvicorn
from fastapi import FastAPI, Request


def create_app(dsn: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(dsn, min_size=10, max_size=10)
        await app.state.pool.execute(
            "CREATE TABLE IF NOT EXISTS writes (id bigserial PRIMARY KEY, body jsonb NOT NULL)"
        )
        yield
        await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def alive() -> dict[str, str]:
        return {"status": "alive"}

    @app.post("/writes", status_code=201)
    async def write(request: Request) -> dict[str, Any]:
        body = await request.body()
        async with request.app.state.pool.acquire() as conn:
            row_id = await conn.fetchval(
                "INSERT INTO writes (body) VALUES ($1::jsonb) RETURNING id", body.decode()
            )
        return {"data": {"id": row_id}}

    return app


if __name__ == "__main__":
    port, dsn = int(sys.argv[1]), sys.argv[2]
    uvicorn.run(create_app(dsn), host="127.0.0.1", port=port, log_level="warning")
