"""The one synchronous call out: ask payment-service to open the Midtrans payment of an order."""

import logging
from typing import Any

import httpx
from pydantic import ValidationError
from servicekit.logs import log_fields
from servicekit.outbound import PooledTransport
from servicekit.service_tokens import ServiceToken
from ticketing_contracts.internal_payments import OpenedPayment, OpenPaymentRequest

from ticket_service.domain.errors import PaymentServiceRefused, PaymentServiceUnavailable
from ticket_service.settings import TicketSettings

logger = logging.getLogger(__name__)

SERVICE_TOKEN_TTL_SECONDS = 3600
PAYMENT_SERVICE_CONNECTIONS = 32  # a payment opens in milliseconds: 32 at once carry a flash sale


class PaymentClient:
    def __init__(self, settings: TicketSettings, transport: httpx.AsyncBaseTransport | None = None):
        self._settings = settings
        self._client = httpx.AsyncClient(
            base_url=settings.payment_service_url.rstrip("/"),
            timeout=httpx.Timeout(settings.payment_service_timeout_seconds, connect=3.0),
            transport=transport or PooledTransport(PAYMENT_SERVICE_CONNECTIONS),
        )
        self._token = ServiceToken(
            settings, sub="ticket-service", ttl_seconds=SERVICE_TOKEN_TTL_SECONDS
        )

    async def open_payment(self, request: OpenPaymentRequest) -> OpenedPayment:
        """POST /internal/payments; idempotent by order_id on payment-service's side."""
        headers = self._token.headers()
        fields = log_fields(order_id=request.order_id)
        try:
            response = await self._client.post(
                "/internal/payments", json=request.model_dump(mode="json"), headers=headers
            )
        except httpx.HTTPError as exc:
            logger.warning("payment-service unreachable: %r", exc, extra=fields)
            raise PaymentServiceUnavailable(f"payment-service unreachable: {exc!r}") from exc
        if response.status_code >= 500 and response.status_code != 502:
            logger.warning("payment-service failed with %s", response.status_code, extra=fields)
            raise PaymentServiceUnavailable(f"payment-service answered {response.status_code}")
        body = _json(response)
        if response.status_code not in (200, 201):
            raw_error = body.get("error")
            error: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
            message = str(error.get("message") or f"payment-service said {response.status_code}")
            code = str(error.get("code") or "payment_refused")
            logger.warning("payment-service refused: %s %s", code, message, extra=fields)
            raise PaymentServiceRefused(message, response.status_code, code)
        try:
            return OpenedPayment.model_validate(body.get("data"))
        except ValidationError as exc:
            logger.error("payment-service answered an unreadable body", extra=fields)
            raise PaymentServiceUnavailable("payment-service answered an unreadable body") from exc

    async def aclose(self) -> None:
        await self._client.aclose()


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
