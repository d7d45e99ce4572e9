"""The receipt PDF of an order, fetched from ticket-service for the e-ticket e-mail (issue 16).

ticket-service issues the receipt in the transaction that activates the order, so it exists by
the time `order.activated` reaches us. The call carries a service token (servicekit) and asks in
the buyer's language. No receipt (a free order, or an order ticket-service does not know) is
None and the e-mail goes without it; anything else is raised, so the delivery is retried.
"""

from urllib.parse import quote

import httpx
from servicekit.service_tokens import issue_service_token

from notification_gateway.domain.model import Language
from notification_gateway.settings import NotificationSettings

NO_RECEIPT = frozenset({404, 409})


class ReceiptUnavailable(Exception):
    """ticket-service could not be reached or failed; try the delivery again later."""


class ReceiptFetcher:
    def __init__(
        self, settings: NotificationSettings, client: httpx.AsyncClient | None = None
    ) -> None:
        self.settings = settings
        self.client = client or httpx.AsyncClient(timeout=settings.receipt_timeout_seconds)

    async def receipt_pdf(self, purchase_order_id: str, language: Language) -> bytes | None:
        token = issue_service_token(self.settings, sub=self.settings.service_name, ttl_seconds=300)
        url = (
            f"{self.settings.ticket_service_url.rstrip('/')}/internal/orders/"
            f"{quote(purchase_order_id, safe='')}/receipt.pdf"
        )
        try:
            answer = await self.client.get(
                url, params={"lang": language}, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as exc:
            raise ReceiptUnavailable(f"ticket-service unreachable: {exc}") from exc
        if answer.status_code in NO_RECEIPT:
            return None
        if answer.status_code != 200 or not answer.content.startswith(b"%PDF-"):
            raise ReceiptUnavailable(f"ticket-service answered {answer.status_code}")
        return answer.content

    async def aclose(self) -> None:
        await self.client.aclose()
