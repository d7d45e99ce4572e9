"""The published contract: error answers, 405's Allow and finite numbers, for every route."""

from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Response
from pydantic import BaseModel
from servicekit.auth import AdminUser, CurrentUser, ServiceCaller
from servicekit.contract import declare, etag_responses, install_contract, replay_responses
from servicekit.errors import install_error_handlers
from servicekit.http import RequestContextMiddleware


class Order(BaseModel):
    amount: int


def make_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestContextMiddleware, max_body_bytes=1024)
    install_error_handlers(app)
    router = APIRouter(prefix="/orders")

    @router.get("/{order_id}", responses=etag_responses())
    async def read(order_id: str, _user: CurrentUser) -> dict[str, Any]:
        return {"data": order_id}

    @router.put("/{order_id}", responses=declare(409))
    async def put(order_id: str, order: Order, _admin: AdminUser) -> dict[str, Any]:
        return {"data": order.amount}

    @router.post("", responses=replay_responses(201), status_code=201)
    async def create(order: Order, _service: ServiceCaller) -> Response:
        return Response(status_code=201)

    app.include_router(router)
    install_contract(app)
    return app


@pytest.fixture
def schema() -> dict[str, Any]:
    return make_app().openapi()


def _statuses(schema: dict[str, Any], path: str, method: str) -> set[str]:
    return set(schema["paths"][path][method]["responses"])


def test_every_operation_declares_what_the_runtime_answers(schema: dict[str, Any]) -> None:
    assert _statuses(schema, "/orders/{order_id}", "get") == {
        "200", "304", "401", "404", "405", "422", "500"
    }  # fmt: skip
    assert _statuses(schema, "/orders/{order_id}", "put") == {
        "200", "400", "401", "403", "404", "405", "409", "413", "422", "500"
    }  # fmt: skip
    assert _statuses(schema, "/orders", "post") == {
        "201", "400", "401", "403", "405", "413", "422", "500"
    }  # fmt: skip


def test_every_error_answer_has_the_envelope_and_its_headers(schema: dict[str, Any]) -> None:
    envelope = {"$ref": "#/components/schemas/ErrorEnvelope"}
    for path in schema["paths"].values():
        for operation in path.values():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert response["content"]["application/json"]["schema"] == envelope
    get = schema["paths"]["/orders/{order_id}"]["get"]["responses"]
    assert set(get["200"]["headers"]) == {"ETag", "Cache-Control"}
    assert "Allow" in get["405"]["headers"]
    assert "WWW-Authenticate" in get["401"]["headers"]
    post = schema["paths"]["/orders"]["post"]["responses"]
    assert "Idempotent-Replayed" in post["201"]["headers"]
    assert schema["components"]["schemas"]["ErrorEnvelope"]["required"] == ["error"]
    assert "HTTPValidationError" not in schema["components"]["schemas"]


@pytest.fixture
async def client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=make_app(), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://t")


async def test_405_allows_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    response = await client.request("OPTIONS", "/orders/o-1")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, PUT"
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("number", ["Infinity", "-Infinity", "NaN", "1e309", "-1e400"])
async def test_a_number_that_is_not_finite_is_refused_before_any_route(
    client: httpx.AsyncClient, number: str
) -> None:
    response = await client.post(
        "/orders",
        content=f'{{"amount": {number}}}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert "finite" in response.json()["error"]["message"]


async def test_big_but_finite_numbers_and_bad_json_go_on_to_the_route(
    client: httpx.AsyncClient,
) -> None:
    big = await client.post(
        "/orders", content='{"amount": 1e300}', headers={"Content-Type": "application/json"}
    )
    broken = await client.post(
        "/orders", content=b'{"amount": ', headers={"Content-Type": "application/json"}
    )
    # Both reach FastAPI: a finite number is the route's business (no token here: 401), and
    # malformed JSON is FastAPI's own 422 `json_invalid`, not our finite-number refusal.
    assert big.status_code == 401
    assert broken.status_code == 422
    assert "finite" not in broken.json()["error"]["message"]


@pytest.mark.parametrize(
    ("path", "content"),
    [
        ("/orders", '{"amount": 1, "note": "a\\u0000b"}'),
        ("/orders", '{"amount": 1, "a\\u0000": 2}'),
        ("/orders?x=%00", '{"amount": 1}'),
        ("/orders/a%00b", '{"amount": 1}'),
    ],
)
async def test_a_nul_character_anywhere_is_refused_before_any_route(
    client: httpx.AsyncClient, path: str, content: str
) -> None:
    method = "PUT" if path.startswith("/orders/") else "POST"
    response = await client.request(
        method, path, content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert "NUL" in response.json()["error"]["message"]


async def test_an_escaped_backslash_before_u0000_is_not_a_nul(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/orders",
        content='{"amount": 1, "note": "C:\\\\u0000"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 401  # reached the route's auth, not refused by us


def test_free_strings_declare_they_hold_no_nul(schema: dict[str, Any]) -> None:
    path = schema["paths"]["/orders/{order_id}"]["get"]["parameters"][0]["schema"]
    assert path["pattern"] == "^[^\\x00]*$"
