"""The receipt PDF of an order, fetched from ticket-service for the buyer's e-mail (issue 16).

ticket-service issues the receipt in the transaction that activates the order, so it exists by
the time `order.activated` reaches us. The call carries a service token (servicekit) and asks in
the buyer's language; the number comes in the `Receipt-Number` header. No receipt (ticket-service
answers 404 or 409: a free order, or an order it does not know) is None and the e-mail goes
without it; anything else raises ReceiptUnavailable, so the delivery is retried.
"""

from urllib.parse import quote

import httpx
from servicekit.outbound import PooledTransport
from servicekit.service_tokens import ServiceToken

from notification_gateway.domain.model import Language
from notification_gateway.domain.receipts import Receipt, ReceiptUnavailable
from notification_gateway.settings import NotificationSettings

NO_RECEIPT = frozenset({404, 409})
NUMBER_HEADER = "Receipt-Number"
TICKET_SERVICE_CONNECTIONS = 16  # a receipt is fetched in milliseconds; e-mails go out 16 at once


class ReceiptFetcher:
    def __init__(
        self, settings: NotificationSettings, client: httpx.AsyncClient | None = None
    ) -> None:
        self.settings = settings
        self.client = client or httpx.AsyncClient(
            timeout=settings.receipt_timeout_seconds,
            transport=PooledTransport(TICKET_SERVICE_CONNECTIONS),
        )
        self._token = ServiceToken(settings, sub=settings.service_name, ttl_seconds=300)

    async def receipt_of(self, purchase_order_id: str, language: Language) -> Receipt | None:
        url = (
            f"{self.settings.ticket_service_url.rstrip('/')}/internal/orders/"
            f"{quote(purchase_order_id, safe='')}/receipt.pdf"
        )
        try:
            answer = await self.client.get(
                url, params={"lang": language}, headers=self._token.headers()
            )
        except httpx.HTTPError as exc:
            raise ReceiptUnavailable(
                f"ticket-service unreachable: {type(exc).__name__}: {exc}"
            ) from exc
        if answer.status_code in NO_RECEIPT:
            return None
        if answer.status_code != 200 or not answer.content.startswith(b"%PDF-"):
            raise ReceiptUnavailable(f"ticket-service answered {answer.status_code}")
        number = answer.headers.get(NUMBER_HEADER, "").strip()
        if not number:
            raise ReceiptUnavailable(f"ticket-service sent no {NUMBER_HEADER} header")
        return Receipt(number=number, pdf=answer.content)

    async def aclose(self) -> None:
        await self.client.aclose()
