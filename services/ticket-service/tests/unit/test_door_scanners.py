"""The host's scanners on fakes: who may register, list and revoke them and rotate the event's key,
and a revoked scanner's upload."""

import dataclasses
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from ticket_service.domain.door import Actor
from ticket_service.domain.errors import EventNotFound
from ticket_service.domain.gates import (
    CheckInList,
    CheckInListNotFound,
    Direction,
    GateTerms,
    GateTicket,
)
from ticket_service.domain.offline_scans import Admission, OfflineScan, RecordedScan
from ticket_service.domain.scanners import (
    RegisteredScanner,
    Scanner,
    ScannerNotFound,
    ScannerRevoked,
)
from ticket_service.service_layer.offline_door import sync_scans
from ticket_service.service_layer.scanners import (
    event_scanners,
    register_scanner,
    revoke_scanner,
    rotate_check_in_key,
)

HOST = Actor("host-1")
T0 = datetime(2026, 12, 20, 18, tzinfo=UTC)


def a_scanner(scanner_id: str, event_id: str = "e-1") -> Scanner:
    return Scanner(
        id=scanner_id,
        event_id=event_id,
        name=f"Gate {scanner_id}",
        list_ids=None,
        created_at=T0,
        created_by="host-1",
        last_seen_at=None,
        last_synced_at=None,
        revoked_at=None,
        revoked_by=None,
    )


class FakeScanners:
    def __init__(self, *scanners: Scanner) -> None:
        self.hosts = {"e-1": "host-1", "e-2": "host-1"}
        self.stored = {s.id: s for s in scanners}
        self.registered: list[RegisteredScanner] = []
        self.rotated: list[str] = []
        self.gates = {"e-1": [a_gate("e-1", "vip")]}

    async def register(
        self, event_id: str, *, name: str, list_ids: list[str] | None, by: str
    ) -> RegisteredScanner:
        made = RegisteredScanner(f"s-{len(self.registered)}", event_id, name, list_ids, T0, "scn_x")
        self.registered.append(made)
        return made

    async def rotate_key(self, event_id: str) -> None:
        self.rotated.append(event_id)

    # The gates' port, for the lists a scanner may be limited to.
    async def lists(self, event_id: str) -> Sequence[CheckInList]:
        return self.gates.get(event_id, [])

    async def put_list(self, event_id: str, list_id: str, terms: GateTerms) -> CheckInList:
        raise AssertionError("unreachable")

    async def known_types(self, event_id: str, type_ids: Sequence[str]) -> set[str]:
        raise AssertionError("unreachable")

    async def event_host(self, event_id: str) -> str | None:
        return self.hosts.get(event_id)

    async def scanners(self, event_id: str) -> list[Scanner]:
        return [s for s in self.stored.values() if s.event_id == event_id]

    async def revoke(self, event_id: str, scanner_id: str, *, by: str) -> Scanner | None:
        found = self.stored.get(scanner_id)
        if found is None or found.event_id != event_id:
            return None
        if not found.revoked:
            found = dataclasses.replace(found, revoked_at=datetime.now(UTC), revoked_by=by)
            self.stored[scanner_id] = found
        return found


def a_gate(event_id: str, list_id: str) -> CheckInList:
    return CheckInList(
        event_id=event_id,
        id=list_id,
        name=list_id.upper(),
        ticket_type_ids=None,
        allow_reentry=False,
        opens_at=None,
        closes_at=None,
    )


async def test_the_host_or_an_admin_registers_a_scanner_for_the_events_own_lists() -> None:
    repo = FakeScanners()
    for actor, list_ids in ((HOST, ["vip", "default"]), (Actor("root", is_admin=True), None)):
        made = await register_scanner(
            repo, repo, event_id="e-1", name="Gate A", list_ids=list_ids, actor=actor
        )
        assert (made.event_id, made.list_ids) == ("e-1", list_ids)
    with pytest.raises(CheckInListNotFound):
        await register_scanner(
            repo, repo, event_id="e-1", name="Gate B", list_ids=["backstage"], actor=HOST
        )
    assert len(repo.registered) == 2


async def test_another_host_registering_a_scanner_or_rotating_the_key_meets_no_event() -> None:
    repo = FakeScanners()
    for actor, event_id in ((Actor("host-2"), "e-1"), (HOST, "e-9")):
        with pytest.raises(EventNotFound):
            await register_scanner(
                repo, repo, event_id=event_id, name="Gate A", list_ids=None, actor=actor
            )
        with pytest.raises(EventNotFound):
            await rotate_check_in_key(repo, event_id=event_id, actor=actor)
    assert repo.registered == [] and repo.rotated == []
    await rotate_check_in_key(repo, event_id="e-1", actor=HOST)
    assert repo.rotated == ["e-1"]


async def test_the_host_and_an_admin_list_the_events_scanners_another_host_meets_none() -> None:
    repo = FakeScanners(a_scanner("s-1"), a_scanner("s-2"), a_scanner("s-3", "e-2"))
    mine = await event_scanners(repo, event_id="e-1", actor=HOST)
    by_admin = await event_scanners(repo, event_id="e-1", actor=Actor("root", is_admin=True))
    assert [s.id for s in mine] == [s.id for s in by_admin] == ["s-1", "s-2"]
    for stranger in (Actor("host-2"), Actor("scanner-s-1", scanner_of="e-1", scanner_id="s-1")):
        with pytest.raises(EventNotFound):
            await event_scanners(repo, event_id="e-1", actor=stranger)
    with pytest.raises(EventNotFound):
        await event_scanners(repo, event_id="e-9", actor=HOST)


async def test_a_second_revoke_answers_the_first_and_keeps_who_and_when() -> None:
    repo = FakeScanners(a_scanner("s-1"))
    first = await revoke_scanner(repo, event_id="e-1", scanner_id="s-1", actor=HOST)
    again = await revoke_scanner(
        repo, event_id="e-1", scanner_id="s-1", actor=Actor("root", is_admin=True)
    )
    assert first.revoked and first.revoked_by == "host-1"
    assert again == first


async def test_revoking_another_events_or_an_unknown_scanner_is_refused() -> None:
    repo = FakeScanners(a_scanner("s-1"), a_scanner("s-3", "e-2"))
    for scanner_id in ("s-3", "s-9"):
        with pytest.raises(ScannerNotFound):
            await revoke_scanner(repo, event_id="e-1", scanner_id=scanner_id, actor=HOST)
    with pytest.raises(EventNotFound):
        await revoke_scanner(repo, event_id="e-1", scanner_id="s-1", actor=Actor("host-2"))
    assert not repo.stored["s-1"].revoked


class RevokedScannerDoor:
    """An offline door whose scanner was revoked: holding it fails, nothing else may run."""

    def __init__(self) -> None:
        self.held: list[str] = []

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        yield

    async def hold_scanner(self, scanner_id: str) -> bool:
        self.held.append(scanner_id)
        return False

    async def lock_tickets(
        self, event_id: str, ticket_ids: Sequence[str], codes: Sequence[str]
    ) -> tuple[dict[str, GateTicket], dict[str, str]]:
        raise AssertionError("a revoked scanner's batch locks no ticket")

    async def gates(self, event_id: str) -> Mapping[str, CheckInList]:
        raise AssertionError("unreachable")

    async def known_scans(self, scanned_by: str, nonces: Sequence[str]) -> list[RecordedScan]:
        raise AssertionError("unreachable")

    async def counted_scans(self, ticket_ids: Sequence[str]) -> list[RecordedScan]:
        raise AssertionError("unreachable")

    async def record(
        self,
        *,
        event_id: str,
        new: Sequence[RecordedScan],
        changed: Sequence[RecordedScan],
        admissions: Mapping[str, Admission],
        publish: Sequence[RecordedScan],
    ) -> None:
        raise AssertionError("a revoked scanner's batch records nothing")


async def test_a_revoked_scanners_upload_is_refused_before_it_touches_a_ticket() -> None:
    repo = RevokedScannerDoor()
    gate = Actor("scanner-s-1", scanner_of="e-1", scanner_id="s-1")
    scan = OfflineScan(
        nonce="n-1",
        ticket_id="t-1",
        attendance_code=None,
        list_id="default",
        direction=Direction.IN,
        scanned_at=T0,
    )
    with pytest.raises(ScannerRevoked):
        await sync_scans(repo, event_id="e-1", actor=gate, scans=[scan])
    assert repo.held == ["s-1"]
