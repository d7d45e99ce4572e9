"""An event's scanners as its host sees them: devices that work the door until revoked."""

from dataclasses import dataclass
from datetime import datetime

from ticket_service.domain.errors import TicketingRefusal


@dataclass(frozen=True, kw_only=True)
class Scanner:
    id: str
    event_id: str
    name: str
    list_ids: list[str] | None
    """None: every list of the event."""
    created_at: datetime
    created_by: str
    last_seen_at: datetime | None
    """The last call with its token, to the minute."""
    last_synced_at: datetime | None
    """The last batch of offline scans it uploaded."""
    revoked_at: datetime | None
    revoked_by: str | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True)
class RegisteredScanner:
    """A scanner as its registration answers it: with its token, shown this once."""

    id: str
    event_id: str
    name: str
    list_ids: list[str] | None
    created_at: datetime
    token: str


class ScannerNotFound(TicketingRefusal):
    pass


class ScannerRevoked(TicketingRefusal):
    """The scanner was revoked after its token was checked, before its upload could count."""
