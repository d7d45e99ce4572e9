"""Uploading scans made offline: each applied once by nonce, conflicts resolved first-scan-wins.

A batch is one transaction that locks its tickets (in id order, so two gates' uploads queue
instead of deadlocking), replays each ticket's scans, and writes the outcome in a few statements.
A retried batch finds its nonces on record and changes nothing; its answer is the current one.
A scanner's batch first takes the scanner's row: a revoke that commits first refuses the whole
batch, a revoke that comes later waits for the batch to commit.
"""

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from ticket_service.domain.attendance_codes import normalise_attendance_code
from ticket_service.domain.door import Actor
from ticket_service.domain.gates import CheckInList, Direction, GateTicket
from ticket_service.domain.offline_scans import (
    ACCEPTED,
    DUPLICATE,
    REFUSED,
    Admission,
    OfflineScan,
    RecordedScan,
    refuse_offline,
    replay,
)
from ticket_service.domain.scanners import ScannerRevoked

PENDING = "pending"


class OfflineDoorRepository(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[None]: ...

    async def hold_scanner(self, scanner_id: str) -> bool:
        """Lock the scanner against a revoke until the transaction ends; False when revoked."""

    async def lock_tickets(
        self, event_id: str, ticket_ids: Sequence[str], codes: Sequence[str]
    ) -> tuple[dict[str, GateTicket], dict[str, str]]:
        """The event's tickets named by id or code, locked; and code -> ticket id."""

    async def gates(self, event_id: str) -> Mapping[str, CheckInList]: ...

    async def known_scans(self, scanned_by: str, nonces: Sequence[str]) -> list[RecordedScan]: ...

    async def counted_scans(self, ticket_ids: Sequence[str]) -> list[RecordedScan]:
        """The tickets' scans that were not refused."""

    async def record(
        self,
        *,
        event_id: str,
        new: Sequence[RecordedScan],
        changed: Sequence[RecordedScan],
        admissions: Mapping[str, Admission],
        publish: Sequence[RecordedScan],
    ) -> None: ...


@dataclass(frozen=True)
class ScanAnswer:
    scan: OfflineScan
    recorded: RecordedScan
    winner: RecordedScan | None


async def sync_scans(
    repo: OfflineDoorRepository, *, event_id: str, actor: Actor, scans: Sequence[OfflineScan]
) -> list[ScanAnswer]:
    """Apply a batch (in any order it came) and answer each scan, in the batch's order."""
    codes = {s.nonce: normalise_attendance_code(s.attendance_code or "") for s in scans}
    async with repo.transaction():
        if actor.scanner_id is not None and not await repo.hold_scanner(actor.scanner_id):
            raise ScannerRevoked("This scanner token is not valid.")
        ids = sorted({s.ticket_id for s in scans if s.ticket_id})
        tickets, by_code = await repo.lock_tickets(
            event_id, ids, sorted({c for c in codes.values() if c})
        )
        known = {
            s.nonce: s for s in await repo.known_scans(actor.user_id, [s.nonce for s in scans])
        }
        gates = await repo.gates(event_id)
        new: dict[str, RecordedScan] = {}
        for scan in scans:
            if scan.nonce in known or scan.nonce in new:
                continue  # a retry: its first upload counts
            ticket_id = scan.ticket_id if scan.ticket_id in tickets else None
            code = codes[scan.nonce]
            if scan.ticket_id is None and code is not None:
                ticket_id = by_code.get(code)
            gate = gates.get(scan.list_id) if actor.may_use_list(scan.list_id) else None
            refusal = refuse_offline(tickets.get(ticket_id or ""), gate, scan)
            new[scan.nonce] = RecordedScan(
                nonce=scan.nonce,
                ticket_id=ticket_id,
                list_id=scan.list_id,
                direction=scan.direction,
                scanned_at=scan.scanned_at,
                scanned_by=actor.user_id,
                result=REFUSED if refusal else PENDING,
                reason=str(refusal) if refusal else None,
                flagged=refusal is not None and scan.direction == Direction.IN,
            )
        counted = [*new.values(), *known.values()]
        touched = sorted(
            {s.ticket_id for s in counted if s.result != REFUSED and s.ticket_id in tickets}
            - {None}
        )
        history: dict[str, list[RecordedScan]] = {t: [] for t in touched}
        for old in await repo.counted_scans(touched):
            history[old.ticket_id or ""].append(old)
        for fresh in new.values():
            if fresh.ticket_id in history and fresh.result != REFUSED:
                history[fresh.ticket_id].append(fresh)
        decided: dict[tuple[str, str | None], RecordedScan] = {}
        admissions: dict[str, Admission] = {}
        winners: dict[str, RecordedScan | None] = {}
        changed: list[RecordedScan] = []
        for ticket_id, ticket_scans in history.items():
            before = {s.id: s.result for s in ticket_scans if s.id is not None}
            replayed, admission = replay(ticket_scans, gates)
            winners[ticket_id] = admission.winner
            ticket = tickets[ticket_id]
            if (admission.checked_in_at, admission.is_inside) != (
                ticket.checked_in_at,
                ticket.is_inside,
            ):
                admissions[ticket_id] = admission
            for done in replayed:
                decided[(done.scanned_by, done.nonce)] = done
                if done.id is not None and before.get(done.id) != done.result:
                    changed.append(done)
        stored_new = [
            decided.get((s.scanned_by, s.nonce), s) if s.result != REFUSED else s
            for s in new.values()
        ]
        publish = [s for s in stored_new if _changes_the_count(s, tickets, winners)]
        await repo.record(
            event_id=event_id,
            new=stored_new,
            changed=changed,
            admissions=admissions,
            publish=publish,
        )
    answers: list[ScanAnswer] = []
    latest = {s.nonce: s for s in stored_new}
    for scan in scans:
        recorded = latest.get(scan.nonce) or known[scan.nonce]
        recorded = decided.get((recorded.scanned_by, recorded.nonce), recorded)
        winner = winners.get(recorded.ticket_id or "") if recorded.result == DUPLICATE else None
        answers.append(ScanAnswer(scan, recorded, winner))
    return answers


def _changes_the_count(
    scan: RecordedScan,
    tickets: Mapping[str, GateTicket],
    winners: Mapping[str, RecordedScan | None],
) -> bool:
    """Published scans: a first admission, a re-entry or an exit. An earlier scan uploaded
    later takes an admission over without counting the ticket twice."""
    if scan.result != ACCEPTED or scan.ticket_id is None:
        return False
    if scan.direction == Direction.OUT:
        return True
    first_entry = winners.get(scan.ticket_id) == scan
    return not first_entry or not tickets[scan.ticket_id].is_checked_in
