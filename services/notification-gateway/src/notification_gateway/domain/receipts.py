"""An order's receipt as the buyer's e-mail carries it: ticket-service's PDF and its number."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Receipt:
    number: str
    """As ticket-service numbers it, e.g. `KW/2026/000001`."""
    pdf: bytes = field(repr=False)


class ReceiptUnavailable(Exception):
    """ticket-service could not be reached or failed: the e-mail waits for a later attempt."""
