"""The ticket→payment client on a mock transport: the shared contract models on the wire."""

import json
from datetime import UTC, datetime

import httpx
import pytest
from servicekit.correlation import set_correlation_id
from ticket_service.adapters.payments import PaymentClient
from ticket_service.domain.errors import PaymentServiceRefused, PaymentServiceUnavailable
from ticket_service.settings import TicketSettings
from ticketing_contracts.internal_payments import (
    OpenPaymentRequest,
    PaymentCustomer,
    PaymentItem,
    PaymentMetadata,
)

EXPIRES = datetime(2026, 12, 5, 3, 27, 44, tzinfo=UTC)
REQUEST = OpenPaymentRequest(
    order_id="TKT-1",
    amount=150_000,
    customer=PaymentCustomer(name="Siti", email="siti@example.id"),
    items=[PaymentItem(id="e-1", name="Jazz", price=150_000, quantity=1)],
    expires_at=EXPIRES,
    metadata=PaymentMetadata(ticket_id="t-1", event_id="e-1", user_id="user-7"),
)

OPENED = {
    "order_id": "TKT-1",
    "snap_token": "snap-1",
    "redirect_url": "https://app.sandbox.midtrans.com/snap/v4/redirection/snap-1",
    "expires_at": EXPIRES.isoformat(),
    "status": "pending",
}


def client_answering(status: int, body: object, seen: list[httpx.Request]) -> PaymentClient:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=body)

    return PaymentClient(TicketSettings(), transport=httpx.MockTransport(answer))


async def test_the_request_and_the_answer_are_the_shared_contract_models() -> None:
    seen: list[httpx.Request] = []
    opened = await client_answering(201, {"data": OPENED}, seen).open_payment(REQUEST)
    assert opened.snap_token == "snap-1"
    assert opened.expires_at == EXPIRES
    assert opened.model_dump(mode="json")["expires_at"] == "2026-12-05T03:27:44+00:00"
    [sent] = seen
    assert sent.url.path == "/internal/payments"
    assert sent.headers["Authorization"].startswith("Bearer ")
    assert "X-Request-ID" not in sent.headers  # no request or message being handled here
    assert OpenPaymentRequest.model_validate(json.loads(sent.content)) == REQUEST


async def test_the_call_carries_the_buyers_request_id() -> None:
    seen: list[httpx.Request] = []
    set_correlation_id("gw-1f2e3d")
    try:
        await client_answering(201, {"data": OPENED}, seen).open_payment(REQUEST)
    finally:
        set_correlation_id(None)
    assert seen[0].headers["X-Request-ID"] == "gw-1f2e3d"


@pytest.mark.parametrize("status", [500, 503, 504])
async def test_a_failing_payment_service_is_unavailable(status: int) -> None:
    with pytest.raises(PaymentServiceUnavailable):
        await client_answering(status, {}, []).open_payment(REQUEST)


async def test_an_unreadable_answer_is_unavailable() -> None:
    with pytest.raises(PaymentServiceUnavailable):
        await client_answering(201, {"data": {"order_id": "TKT-1"}}, []).open_payment(REQUEST)


@pytest.mark.parametrize("status", [409, 422, 502])
async def test_a_refusal_carries_payment_services_code(status: int) -> None:
    body = {"error": {"code": "midtrans_refused", "message": "no"}}
    with pytest.raises(PaymentServiceRefused) as refused:
        await client_answering(status, body, []).open_payment(REQUEST)
    assert refused.value.code == "midtrans_refused"
    assert refused.value.status_code == status
