"""Business refusals, one exception each; bootstrap maps them once to HTTP statuses and codes."""

from collections.abc import Mapping
from typing import Any


class TicketingRefusal(Exception):
    def __init__(
        self,
        message: str,
        *,
        details: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.details = dict(details or {})
        self.headers = dict(headers or {})


class EventNotFound(TicketingRefusal):
    pass


class TicketNotFound(TicketingRefusal):
    pass


class TransactionNotFound(TicketingRefusal):
    pass


class NotEventHost(TicketingRefusal):
    pass


class CapacityBelowTaken(TicketingRefusal):
    pass


class InvalidEvent(TicketingRefusal):
    pass


class SoldOut(TicketingRefusal):
    @property
    def event_is_full(self) -> bool:
        """No seat is left at the event at all, so every order of it would be refused.

        Not a type's, a quota's or a waiting list's refusal, nor an order larger than what is left.
        """
        return "ticket_type_id" not in self.details and self.details.get("available", 0) == 0


class SalesNotOpen(TicketingRefusal):
    pass


class SalesClosed(TicketingRefusal):
    pass


class PerUserLimitReached(TicketingRefusal):
    pass


class PriceMismatch(TicketingRefusal):
    pass


class BuyerMismatch(TicketingRefusal):
    pass


class PurchaseRateLimited(TicketingRefusal):
    pass


class IdempotencyKeyReused(TicketingRefusal):
    pass


class PurchaseInProgress(TicketingRefusal):
    pass


class PaymentUnavailable(TicketingRefusal):
    pass


class PaymentRefused(TicketingRefusal):
    pass


class AttendanceCodesExhausted(TicketingRefusal):
    pass


class PaymentServiceUnavailable(Exception):
    """Could not reach payment-service, it timed out, or it (or Midtrans behind it) failed."""


class PaymentServiceRefused(Exception):
    """payment-service answered with a refusal (Midtrans 4xx, order conflict, validation)."""

    def __init__(self, message: str, status_code: int, code: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
