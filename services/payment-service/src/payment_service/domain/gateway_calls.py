"""One call to Midtrans as the audit log keeps it, and the ways a call fails.

Values the use cases reason about; the httpx client (`adapters.midtrans`) produces them.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class GatewayAnswer:
    """One call to Midtrans as the audit log keeps it."""

    operation: str
    http_status: int | None
    body: dict[str, Any] | None
    duration_ms: float
    error: str | None = None


@dataclass(frozen=True)
class IssuedToken:
    """A Snap token Midtrans issued for a payment: its page, when the page ends, Snap's answer
    as audited, and why it was asked for (the transition's reason)."""

    token: str
    redirect_url: str
    expires_at: datetime
    answer: GatewayAnswer
    reason: str


class MidtransError(Exception):
    def __init__(self, message: str, answer: GatewayAnswer) -> None:
        super().__init__(message)
        self.answer = answer
        self.details: dict[str, Any] = {"operation": answer.operation}
        if answer.http_status is not None:
            self.details["midtrans_status"] = answer.http_status


class MidtransRefused(MidtransError):
    """Midtrans answered 4xx (or a 4xx status_code in the body): the request is wrong for it."""

    @property
    def status_code(self) -> int | None:
        body = self.answer.body or {}
        code = body.get("status_code")
        if isinstance(code, str) and code.isdigit():
            return int(code)
        return self.answer.http_status


class MidtransUnavailable(MidtransError):
    """Midtrans timed out, could not be reached or answered 5xx."""


class TransactionNotFound(MidtransError):
    """Core API 404: no transaction yet (a Snap customer who has not picked a method)."""


@dataclass(frozen=True)
class SnapToken:
    token: str
    redirect_url: str
    answer: GatewayAnswer
