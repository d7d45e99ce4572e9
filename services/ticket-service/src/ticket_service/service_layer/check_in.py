"""Admitting a ticket at the door: by attendance code or signed QR, once, even under races.

The repository runs the whole decision as one statement (one round trip); this use case only
explains a refusal, and re-reads only when a scan lost a race or is a scanner's retry.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ticket_service.domain.attendance_codes import normalise_attendance_code
from ticket_service.domain.door import (
    Actor,
    AlreadyCheckedIn,
    AmbiguousCode,
    DoorTicket,
    InvalidQrCode,
    NonceReused,
    TicketNotFound,
    WrongEvent,
    refuse_scan,
)
from ticket_service.domain.entities import Ticket
from ticket_service.domain.gates import (
    DEFAULT_LIST_ID,
    CheckInList,
    CheckInListNotFound,
    Direction,
    GateTicket,
)
from ticket_service.domain.qr_codes import QrClaims

QrVerifier = Callable[[str], Awaitable[QrClaims]]
"""Signed QR payload -> its claims; raises InvalidQrCode when forged or edited."""


@dataclass(frozen=True)
class GateScan:
    """One online scan, as the repository runs it."""

    actor: Actor
    ticket_id: str | None
    attendance_code: str | None
    event_id: str | None
    list_id: str
    direction: Direction
    nonce: str | None


@dataclass(frozen=True)
class GateScanOutcome:
    """What the one statement found and did."""

    matches: int
    matched_event_ids: list[str]
    ticket: GateTicket | None
    attendance_code: str | None
    gate: CheckInList | None
    admitted: Ticket | None
    scanned_at: datetime


class DoorRepository(Protocol):
    async def scan_online(self, scan: GateScan) -> GateScanOutcome:
        """Find the ticket the actor may scan, apply the gate's rules, admit, log, publish."""

    async def nonce_owner(self, nonce: str, scanner_id: str) -> str | None: ...

    async def gate_ticket(self, ticket_id: str) -> GateTicket | None: ...

    async def view(self, ticket_id: str, *, lock: bool = False) -> Ticket | None: ...

    async def tickets_by_code(
        self, code: str, *, host_id: str | None = None, event_id: str | None = None
    ) -> list[DoorTicket]: ...


class DoorGuard(Protocol):
    """Counts failed door attempts per caller and refuses a caller who made too many."""

    async def check(self, actor: Actor) -> None:
        """Raises DoorRateLimited while the caller is blocked."""

    async def failed(self, actor: Actor, reason: str) -> None: ...


@dataclass(frozen=True)
class CheckIn:
    actor: Actor
    attendance_code: str | None = None
    qr_payload: str | None = None
    event_id: str | None = None
    nonce: str | None = None
    list_id: str = DEFAULT_LIST_ID
    direction: Direction = Direction.IN


@dataclass(frozen=True)
class Admitted:
    ticket: Ticket
    replayed: bool = False


async def check_in(
    repo: DoorRepository, command: CheckIn, *, verify_qr: QrVerifier, guard: DoorGuard
) -> Admitted:
    await guard.check(command.actor)
    try:
        return await _check_in(repo, command, verify_qr)
    except (TicketNotFound, InvalidQrCode) as refusal:
        await guard.failed(command.actor, type(refusal).__name__)
        raise


async def _check_in(repo: DoorRepository, command: CheckIn, verify_qr: QrVerifier) -> Admitted:
    if not command.actor.may_use_list(command.list_id):
        raise CheckInListNotFound(command.list_id)
    claims = await verify_qr(command.qr_payload.strip()) if command.qr_payload else None
    code = None
    if claims is None:
        assert command.attendance_code is not None
        code = normalise_attendance_code(command.attendance_code)
        if code is None:
            raise TicketNotFound("No ticket with this code at your events.")
    outcome = await repo.scan_online(
        GateScan(
            actor=command.actor,
            ticket_id=claims.ticket_id if claims else None,
            attendance_code=claims.attendance_code if claims else code,
            event_id=command.event_id,
            list_id=command.list_id,
            direction=command.direction,
            nonce=command.nonce,
        )
    )
    if outcome.matches == 0 or outcome.ticket is None:
        if outcome.matches > 1:
            raise AmbiguousCode(outcome.matched_event_ids)
        if claims is not None:
            await _explain_qr_miss(repo, claims, command)
        raise TicketNotFound("No ticket with this code at your events.")
    if outcome.admitted is not None:
        return Admitted(outcome.admitted)
    ticket = outcome.ticket
    if command.nonce:
        owner = await repo.nonce_owner(command.nonce, command.actor.user_id)
        if owner is not None:
            if owner != ticket.id:
                raise NonceReused()
            current = await repo.view(ticket.id)
            assert current is not None
            return Admitted(current, replayed=True)
    if outcome.gate is None:
        raise CheckInListNotFound(command.list_id)
    refusal = refuse_scan(ticket, outcome.gate, command.direction, outcome.scanned_at)
    if refusal is None:
        # Lost a race: the statement saw the ticket admissible, the winner's commit changed it.
        await _refuse_replaced_credential(repo, ticket.id, outcome.attendance_code, command)
        now = await repo.gate_ticket(ticket.id)
        assert now is not None
        refusal = refuse_scan(now, outcome.gate, command.direction, outcome.scanned_at)
    raise refusal or AlreadyCheckedIn(ticket.checked_in_at)


async def _refuse_replaced_credential(
    repo: DoorRepository, ticket_id: str, scanned_code: str | None, command: CheckIn
) -> None:
    """A transfer that committed first gave the ticket a new code: the scanned one is void."""
    current = await repo.view(ticket_id)
    if current is not None and current.attendance_code != scanned_code:
        if command.qr_payload:
            raise InvalidQrCode("The QR code does not match the ticket.")
        raise TicketNotFound("No ticket with this code at your events.")


async def _explain_qr_miss(repo: DoorRepository, claims: QrClaims, command: CheckIn) -> None:
    """A genuine QR the caller's door did not match: another event, or a replaced code."""
    ticket = await repo.view(claims.ticket_id)
    if ticket is None or not command.actor.works_door_of(ticket.event_id, ticket.event.host_id):
        return
    if ticket.attendance_code != claims.attendance_code:
        raise InvalidQrCode("The QR code does not match the ticket.")
    if command.event_id is not None and command.event_id != ticket.event_id:
        raise WrongEvent(ticket.event_id)


async def find_by_code(
    repo: DoorRepository, code: str, *, actor: Actor, event_id: str | None
) -> DoorTicket:
    """The ticket with `code` among the events the actor runs (one event when `event_id`).

    A stranger gets the same answer as for a code that does not exist.
    """
    normalised = normalise_attendance_code(code)
    if normalised is None:
        raise TicketNotFound("No ticket with this code at your events.")
    host_id = None if actor.is_admin else actor.user_id
    found = await repo.tickets_by_code(normalised, host_id=host_id, event_id=event_id)
    if not found:
        raise TicketNotFound("No ticket with this code at your events.")
    if len(found) > 1:
        raise AmbiguousCode([t.event_id for t in found])
    return found[0]
