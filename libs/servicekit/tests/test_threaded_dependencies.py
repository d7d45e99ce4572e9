"""`threaded_dependencies` names each plain-`def` dependency and endpoint, included ones too."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI
from servicekit.testing import threaded_dependencies


def blocking_repo() -> str:
    return "repo"


async def async_repo() -> str:
    return "repo"


async def connection() -> AsyncIterator[str]:
    yield "conn"


class Callable:
    async def __call__(self) -> str:
        return "callable"


def test_names_the_plain_def_dependencies_and_endpoints_of_included_routers() -> None:
    inner = APIRouter()

    @inner.get("/threaded")
    async def threaded(repo: Annotated[str, Depends(blocking_repo)]) -> dict[str, str]:
        return {"repo": repo}

    @inner.get("/sync-endpoint")
    def sync_endpoint(conn: Annotated[str, Depends(connection)]) -> dict[str, str]:
        return {"conn": conn}

    @inner.get("/on-the-loop")
    async def on_the_loop(
        repo: Annotated[str, Depends(async_repo)], made: Annotated[str, Depends(Callable())]
    ) -> dict[str, str]:
        return {"repo": repo, "made": made}

    outer = APIRouter(prefix="/v1")
    outer.include_router(inner)
    app = FastAPI()
    app.include_router(outer)

    module = __name__
    assert threaded_dependencies(app) == [
        f"{module}.blocking_repo (/threaded)",
        f"{module}.test_names_the_plain_def_dependencies_and_endpoints_of_included_routers"
        ".<locals>.sync_endpoint (/sync-endpoint)",
    ]
