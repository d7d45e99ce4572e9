"""Scans made offline and uploaded later: each ticket's scans replayed in the order they happened.

First scan wins: a ticket's admission is its earliest accepted entry by `scanned_at`, whichever
gate uploads first; a later entry is a duplicate (or a re-entry where the gate allows it after
an exit). A scan the server refuses (cancelled, refunded, wrong list) is flagged: the offline
gate let someone in who should not have been.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from ticket_service.domain.gates import (
    CheckInList,
    Direction,
    GateTicket,
    ScanRefusal,
    gate_refusal,
)

ACCEPTED, DUPLICATE, REFUSED = "accepted", "duplicate", "refused"


@dataclass(frozen=True)
class OfflineScan:
    nonce: str
    ticket_id: str | None
    attendance_code: str | None
    list_id: str
    direction: Direction
    scanned_at: datetime


@dataclass(frozen=True)
class RecordedScan:
    """A scan on record (or about to be): what it was and how it counted."""

    nonce: str | None
    ticket_id: str | None
    list_id: str
    direction: Direction
    scanned_at: datetime
    scanned_by: str
    result: str
    reason: str | None = None
    flagged: bool = False
    id: int | None = None  # None until stored


@dataclass(frozen=True)
class Admission:
    """Where a ticket stands after its scans: admitted when and by whom, inside or not."""

    checked_in_at: datetime | None
    checked_in_by: str | None
    is_inside: bool
    winner: RecordedScan | None


def refuse_offline(
    ticket: GateTicket | None, gate: CheckInList | None, scan: OfflineScan
) -> ScanRefusal | None:
    if ticket is None:
        return ScanRefusal.UNKNOWN_TICKET
    if gate is None:
        return ScanRefusal.UNKNOWN_LIST
    return gate_refusal(ticket, gate, scan.scanned_at)


def replay(
    scans: Iterable[RecordedScan], gates: Mapping[str, CheckInList]
) -> tuple[list[RecordedScan], Admission]:
    """The ticket's counted scans (refused ones left out) re-decided in scanned_at order."""
    ordered = sorted(scans, key=lambda s: (s.scanned_at, s.id is None, s.id or 0, s.nonce or ""))
    decided: list[RecordedScan] = []
    winner: RecordedScan | None = None
    inside = False
    for scan in ordered:
        gate = gates.get(scan.list_id)
        reentry = gate is not None and gate.allow_reentry
        if scan.direction == Direction.OUT:
            result, reason = (ACCEPTED, None) if inside else (REFUSED, ScanRefusal.NOT_INSIDE)
            inside = False
        elif winner is None or (not inside and reentry):
            result, reason, inside = ACCEPTED, None, True
        else:
            result, reason = DUPLICATE, None
        decided.append(replace(scan, result=result, reason=reason))
        if winner is None and result == ACCEPTED and scan.direction == Direction.IN:
            winner = decided[-1]
    admission = Admission(
        checked_in_at=winner.scanned_at if winner else None,
        checked_in_by=winner.scanned_by if winner else None,
        is_inside=inside,
        winner=winner,
    )
    return decided, admission
