"""Business refusals; bootstrap maps each to an HTTP status and code once."""


class PaymentNotFound(LookupError):
    """No payment with this order_id (or not one the caller may see)."""


class OrderConflict(ValueError):
    """The same order_id was opened with a different amount or user."""


class InvalidOrder(ValueError):
    """The order's tickets do not make sense (its first ticket is not `ticket_id`, a repeat)."""


class AmountMismatch(ValueError):
    """The amount the client sent differs from the order's."""


class PaymentClosed(ValueError):
    """The payment is no longer waiting for the customer (paid, failed, refunded)."""


class NotRefundable(ValueError):
    """The payment holds no money we could refund."""


class RefundNotFound(LookupError):
    """No refund with this id (or not one the caller may see)."""


class PayoutConflict(ValueError):
    """The payout cannot take this step now (not awaiting one, no bank account, paid already)."""


class StatusApiUnavailable(Exception):
    """Midtrans' status API could not answer now (timeout, 5xx, refusal): try again later."""


class RateLimited(Exception):
    """Too many requests of one user in the window; carries Retry-After."""

    def __init__(
        self, message: str, *, headers: dict[str, str], details: dict[str, object]
    ) -> None:
        super().__init__(message)
        self.headers = headers
        self.details = details
