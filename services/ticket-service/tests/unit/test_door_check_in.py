"""Check-in rules on an in-memory repository: who is admitted, who is refused and why."""

import copy
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from ticket_service.domain.door import (
    Actor,
    AlreadyCheckedIn,
    AmbiguousCode,
    DoorTicket,
    InvalidQrCode,
    NonceReused,
    NotEventHost,
    TicketNotActive,
    TicketNotFound,
    WrongEvent,
)
from ticket_service.domain.qr_codes import QrClaims, sign_qr_payload, verify_qr_payload
from ticket_service.service_layer.check_in import CheckIn, check_in

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
    def __init__(self, *tickets: DoorTicket) -> None:
        self.tickets = {t.id: t for t in tickets}
        self.nonces: dict[tuple[str, str], str] = {}
        self.events: list[str] = []

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        saved = copy.deepcopy((self.tickets, self.nonces, self.events))
        try:
            yield
        except BaseException:
            self.tickets, self.nonces, self.events = saved
            raise

    async def ticket(self, ticket_id: str, *, lock: bool = False) -> DoorTicket | None:
        return self.tickets.get(ticket_id)

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

    async def admit(self, ticket_id: str, *, by: str) -> DoorTicket | None:
        ticket = self.tickets[ticket_id]
        if ticket.status != "active" or ticket.is_checked_in:
            return None
        now = datetime.now(UTC)
        self.tickets[ticket_id] = dataclasses.replace(ticket, is_checked_in=True, checked_in_at=now)
        return self.tickets[ticket_id]

    async def claim_nonce(self, nonce: str, scanner_id: str, ticket_id: str) -> str | None:
        owner = self.nonces.get((nonce, scanner_id))
        if owner is None:
            self.nonces[(nonce, scanner_id)] = ticket_id
        return owner

    async def record_checked_in(self, ticket: DoorTicket) -> None:
        self.events.append(f"ticket.checked_in:{ticket.id}")


KEYS = [("k2", b"current-secret"), ("k1", b"previous-secret")]


def signed(payload: str) -> QrClaims:
    return verify_qr_payload(payload, KEYS)


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
    with pytest.raises(NotEventHost):
        await check_in(
            door, CheckIn(stranger, attendance_code="A3F7", event_id="e-1"), verify_qr=signed
        )
    with pytest.raises(NotEventHost):
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
