"""Check-in rules on an in-memory repository: who is admitted, who is refused and why."""

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from fakes import a_ticket
from ticket_service.domain.door import (
    Actor,
    AlreadyCheckedIn,
    AmbiguousCode,
    DoorTicket,
    InvalidQrCode,
    NonceReused,
    TicketNotActive,
    TicketNotFound,
    WrongEvent,
    refuse_scan,
)
from ticket_service.domain.entities import Ticket
from ticket_service.domain.gates import DEFAULT_LIST_ID, GateTicket, default_list
from ticket_service.domain.qr_codes import QrClaims, sign_qr_payload, verify_qr_payload
from ticket_service.service_layer.check_in import (
    Admitted,
    CheckIn,
    GateScan,
    GateScanOutcome,
    QrVerifier,
)
from ticket_service.service_layer.check_in import check_in as run_check_in

HOST = Actor("host-1")
STARTS = datetime(2030, 1, 1, 19, tzinfo=UTC)


def make_ticket(**overrides: object) -> DoorTicket:
    fields: dict[str, object] = {
        "id": "t-1",
        "event_id": "e-1",
        "user_id": "buyer-1",
        "host_id": "host-1",
        "status": "active",
        "attendance_code": "A3F7",
        "is_checked_in": False,
        "checked_in_at": None,
        "price_paid": 50_000,
        "event_starts_at": STARTS,
    }
    fields.update(overrides)
    return DoorTicket(**fields)  # type: ignore[arg-type]


class FakeDoor:
    """The one-statement check-in in memory: the same rules, decided by the domain."""

    def __init__(self, *tickets: DoorTicket) -> None:
        self.tickets = {t.id: t for t in tickets}
        self.nonces: dict[tuple[str, str], str] = {}
        self.events: list[str] = []

    async def scan_online(self, scan: GateScan) -> GateScanOutcome:
        actor = scan.actor
        found = [
            t
            for t in self.tickets.values()
            if (scan.ticket_id is None or t.id == scan.ticket_id)
            and (scan.attendance_code is None or t.attendance_code == scan.attendance_code)
            and (scan.event_id is None or t.event_id == scan.event_id)
            and actor.works_door_of(t.event_id, t.host_id)
        ]
        now = datetime.now(UTC)
        if len(found) != 1:
            events = [t.event_id for t in found]
            return GateScanOutcome(len(found), events, None, None, None, None, now)
        ticket = found[0]
        gate = default_list(ticket.event_id) if scan.list_id == DEFAULT_LIST_ID else None
        state = GateTicket(
            ticket.id, ticket.status, None, ticket.is_checked_in, False, ticket.checked_in_at
        )
        admitted = None
        used = (scan.nonce, actor.user_id) in self.nonces
        if gate and not used and refuse_scan(state, gate, scan.direction, now) is None:
            ticket = dataclasses.replace(ticket, is_checked_in=True, checked_in_at=now)
            self.tickets[ticket.id] = ticket
            if scan.nonce:
                self.nonces[(scan.nonce, actor.user_id)] = ticket.id
            self.events.append(f"ticket.checked_in:{ticket.id}")
            admitted = self._view(ticket)
        return GateScanOutcome(
            1, [ticket.event_id], state, ticket.attendance_code, gate, admitted, now
        )

    async def nonce_owner(self, nonce: str, scanner_id: str) -> str | None:
        return self.nonces.get((nonce, scanner_id))

    async def gate_ticket(self, ticket_id: str) -> GateTicket | None:
        t = self.tickets[ticket_id]
        return GateTicket(t.id, t.status, None, t.is_checked_in, False, t.checked_in_at)

    async def view(self, ticket_id: str, *, lock: bool = False) -> Ticket | None:
        ticket = self.tickets.get(ticket_id)
        return self._view(ticket) if ticket else None

    @staticmethod
    def _view(t: DoorTicket) -> Ticket:
        event = dataclasses.replace(a_ticket(t.id).event, id=t.event_id, host_id=t.host_id)
        return a_ticket(
            t.id,
            event_id=t.event_id,
            status=t.status,
            attendance_code=t.attendance_code,
            is_checked_in=t.is_checked_in,
            checked_in_at=t.checked_in_at,
            event=event,
        )

    async def tickets_by_code(
        self, code: str, *, host_id: str | None = None, event_id: str | None = None
    ) -> list[DoorTicket]:
        return [
            t
            for t in self.tickets.values()
            if t.attendance_code == code
            and (host_id is None or t.host_id == host_id)
            and (event_id is None or t.event_id == event_id)
        ]


class OpenGuard:
    """Nobody is blocked; failures are remembered."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    async def check(self, actor: Actor) -> None:
        return None

    async def failed(self, actor: Actor, reason: str) -> None:
        self.failures.append(reason)


KEYS = [("k2", b"current-secret"), ("k1", b"previous-secret")]


async def signed(payload: str) -> QrClaims:
    return verify_qr_payload(payload, KEYS)


async def check_in(door: FakeDoor, command: CheckIn, *, verify_qr: QrVerifier) -> Admitted:
    return await run_check_in(door, command, verify_qr=verify_qr, guard=OpenGuard())


def qr(ticket_id: str, code: str, keys: list[tuple[str, bytes]] = KEYS) -> str:
    return sign_qr_payload(ticket_id, code, keys)


async def test_host_checks_in_an_active_ticket_by_code_and_the_event_is_recorded() -> None:
    door = FakeDoor(make_ticket())
    result = await check_in(door, CheckIn(HOST, attendance_code=" a3f7 "), verify_qr=signed)
    assert result.ticket.is_checked_in
    assert result.ticket.checked_in_at is not None
    assert door.events == ["ticket.checked_in:t-1"]


async def test_second_check_in_is_refused_with_first_time() -> None:
    door = FakeDoor(make_ticket())
    first = await check_in(door, CheckIn(HOST, attendance_code="A3F7"), verify_qr=signed)
    with pytest.raises(AlreadyCheckedIn) as refused:
        await check_in(door, CheckIn(HOST, attendance_code="A3F7"), verify_qr=signed)
    assert first.ticket.checked_in_at is not None
    assert refused.value.details == {"checked_in_at": first.ticket.checked_in_at.isoformat()}
    assert len(door.events) == 1


@pytest.mark.parametrize("status", ["pending", "cancelled", "expired", "refunded"])
async def test_ticket_that_is_not_active_is_refused_with_its_status(status: str) -> None:
    door = FakeDoor(make_ticket(status=status))
    with pytest.raises(TicketNotActive) as refused:
        await check_in(door, CheckIn(HOST, attendance_code="A3F7"), verify_qr=signed)
    assert refused.value.details == {"status": status}
    assert door.events == []


async def test_retry_with_the_same_nonce_gets_the_first_answer() -> None:
    door = FakeDoor(make_ticket())
    first = await check_in(
        door, CheckIn(HOST, attendance_code="A3F7", nonce="n1"), verify_qr=signed
    )
    again = await check_in(
        door, CheckIn(HOST, attendance_code="A3F7", nonce="n1"), verify_qr=signed
    )
    assert again.replayed
    assert again.ticket.checked_in_at == first.ticket.checked_in_at
    assert len(door.events) == 1


async def test_nonce_used_for_another_ticket_is_refused() -> None:
    door = FakeDoor(make_ticket(), make_ticket(id="t-2", attendance_code="B4G8"))
    await check_in(door, CheckIn(HOST, attendance_code="A3F7", nonce="n1"), verify_qr=signed)
    with pytest.raises(NonceReused):
        await check_in(door, CheckIn(HOST, attendance_code="B4G8", nonce="n1"), verify_qr=signed)


async def test_refused_check_in_does_not_keep_its_nonce() -> None:
    door = FakeDoor(make_ticket(status="pending"))
    with pytest.raises(TicketNotActive):
        await check_in(door, CheckIn(HOST, attendance_code="A3F7", nonce="n1"), verify_qr=signed)
    assert door.nonces == {}


async def test_host_of_another_event_is_refused() -> None:
    door = FakeDoor(make_ticket())
    stranger = Actor("host-2")
    with pytest.raises(TicketNotFound):
        await check_in(door, CheckIn(stranger, attendance_code="A3F7"), verify_qr=signed)
    # Issue 15: the same answer as for a code that does not exist (no oracle for strangers).
    with pytest.raises(TicketNotFound):
        await check_in(
            door, CheckIn(stranger, attendance_code="A3F7", event_id="e-1"), verify_qr=signed
        )
    with pytest.raises(TicketNotFound):
        await check_in(door, CheckIn(stranger, qr_payload=qr("t-1", "A3F7")), verify_qr=signed)
    assert door.events == []


async def test_admin_may_check_in_at_any_event() -> None:
    door = FakeDoor(make_ticket())
    result = await check_in(
        door, CheckIn(Actor("admin-1", is_admin=True), attendance_code="A3F7"), verify_qr=signed
    )
    assert result.ticket.is_checked_in


async def test_code_shared_by_two_of_the_hosts_events_needs_event_id() -> None:
    door = FakeDoor(make_ticket(), make_ticket(id="t-2", event_id="e-2"))
    with pytest.raises(AmbiguousCode) as refused:
        await check_in(door, CheckIn(HOST, attendance_code="A3F7"), verify_qr=signed)
    assert refused.value.details == {"event_ids": ["e-1", "e-2"]}
    result = await check_in(
        door, CheckIn(HOST, attendance_code="A3F7", event_id="e-2"), verify_qr=signed
    )
    assert result.ticket.id == "t-2"


async def test_signed_qr_admits_and_forged_or_edited_qr_is_refused() -> None:
    door = FakeDoor(make_ticket())
    forged = qr("t-1", "A3F7", [("k2", b"guessed-secret")])
    edited = qr("t-1", "A3F7").replace("A3F7", "A3F8")
    unknown_key = qr("t-1", "A3F7", [("k9", b"current-secret")])
    for payload in (forged, edited, unknown_key, "A3F7", "TKT1.t-1.A3F7.k2."):
        with pytest.raises(InvalidQrCode):
            await check_in(door, CheckIn(HOST, qr_payload=payload), verify_qr=signed)
    with pytest.raises(InvalidQrCode):  # signed, but for another code than the ticket's
        await check_in(door, CheckIn(HOST, qr_payload=qr("t-1", "ZZZZ")), verify_qr=signed)
    old_key = qr("t-1", "A3F7", [("k1", b"previous-secret")])  # signed before a rotation
    result = await check_in(door, CheckIn(HOST, qr_payload=old_key), verify_qr=signed)
    assert result.ticket.is_checked_in


async def test_qr_of_another_event_at_this_door_is_refused() -> None:
    door = FakeDoor(make_ticket())
    with pytest.raises(WrongEvent):
        await check_in(
            door, CheckIn(HOST, qr_payload=qr("t-1", "A3F7"), event_id="e-9"), verify_qr=signed
        )


async def test_unknown_code_is_not_found() -> None:
    door = FakeDoor(make_ticket(checked_in_at=STARTS - timedelta(hours=1)))
    with pytest.raises(TicketNotFound):
        await check_in(door, CheckIn(HOST, attendance_code="QQQQ"), verify_qr=signed)
