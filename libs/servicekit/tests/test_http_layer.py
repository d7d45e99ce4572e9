"""The error envelope, request ids, body limits and log redaction, as a client sees them."""

import io
import json
import logging

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel
from servicekit.correlation import current_correlation_id
from servicekit.errors import NotFound, install_error_handlers
from servicekit.http import RequestContextMiddleware
from servicekit.logs import JsonFormatter, register_secret


class SoldOut(Exception):
    details = {"available": 0}


class Order(BaseModel):
    amount: int
    email: str


def make_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestContextMiddleware, max_body_bytes=1024)
    install_error_handlers(app, {SoldOut: (409, "sold_out")})
    router = APIRouter()

    @router.post("/orders")
    async def create(order: Order) -> dict[str, object]:
        return {"data": order.model_dump(), "correlation_id": current_correlation_id()}

    @router.get("/missing")
    async def missing() -> None:
        raise NotFound("No such ticket.")

    @router.get("/sold-out")
    async def sold_out() -> None:
        raise SoldOut("The event is sold out.")

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals: /etc/passwd")

    app.include_router(router)
    return app


@pytest.fixture
async def client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=make_app(), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://t")


async def test_validation_error_is_422_naming_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/orders", json={"amount": "lots", "email": "a@b.c"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"].startswith("amount")


async def test_not_found_and_domain_errors_use_the_envelope(client: httpx.AsyncClient) -> None:
    missing = await client.get("/missing")
    assert missing.status_code == 404
    assert missing.json() == {"error": {"code": "not_found", "message": "No such ticket."}}
    sold_out = await client.get("/sold-out")
    assert sold_out.status_code == 409
    assert sold_out.json()["error"] == {
        "code": "sold_out",
        "message": "The event is sold out.",
        "details": {"available": 0},
    }
    assert (await client.get("/no-route")).json()["error"]["code"] == "not_found"


async def test_unexpected_error_is_500_without_internals(client: httpx.AsyncClient) -> None:
    response = await client.get("/boom")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "passwd" not in response.text and "Traceback" not in response.text


async def test_request_id_from_the_gateway_is_the_correlation_id(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/orders", json={"amount": 1, "email": "a@b.c"}, headers={"X-Request-ID": "req-abc"}
    )
    assert response.headers["x-request-id"] == "req-abc"
    assert response.json()["correlation_id"] == "req-abc"
    generated = await client.post("/orders", json={"amount": 1, "email": "a@b.c"})
    assert len(generated.headers["x-request-id"]) == 32


async def test_body_over_the_limit_is_413_by_header_and_by_stream(
    client: httpx.AsyncClient,
) -> None:
    big = {"amount": 1, "email": "a" * 2000}
    declared = await client.post("/orders", json=big)
    assert declared.status_code == 413
    assert declared.json()["error"]["code"] == "payload_too_large"

    async def chunks():  # type: ignore[no-untyped-def]
        yield json.dumps(big).encode()

    streamed = await client.post("/orders", content=chunks())
    assert streamed.status_code == 413


def test_log_lines_never_carry_registered_secrets_or_authorization_values() -> None:
    register_secret("SB-Mid-server-very-secret")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("tests"))
    logger = logging.getLogger("redaction-test")
    logger.addHandler(handler)
    logger.warning("calling Midtrans with key SB-Mid-server-very-secret")
    logger.warning("headers: {'Authorization': 'Basic U0ItTWlkLXNlcnZlcjo='}")
    logger.warning("Authorization: Bearer eyJhbGciOi.eyJzdWIi.sig")
    out = stream.getvalue()
    assert "SB-Mid-server-very-secret" not in out
    assert "U0ItTWlkLXNlcnZlcjo=" not in out
    assert "eyJhbGciOi" not in out
    assert out.count("[REDACTED]") == 3
    assert all(json.loads(line)["service"] == "tests" for line in out.splitlines())
