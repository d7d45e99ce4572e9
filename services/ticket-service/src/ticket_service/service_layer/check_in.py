"""Admitting a ticket at the door: by attendance code or signed QR, once, even under races."""

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from ticket_service.domain.attendance_codes import normalise_attendance_code
from ticket_service.domain.door import (
    Actor,
    AmbiguousCode,
    DoorTicket,
    InvalidQrCode,
    NonceReused,
    NotEventHost,
    TicketNotFound,
    WrongEvent,
    refuse_check_in,
)
from ticket_service.domain.qr_codes import QrClaims

QrVerifier = Callable[[str], QrClaims]
"""Signed QR payload -> its claims; raises InvalidQrCode when forged or edited."""


class DoorRepository(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[None]: ...

    async def ticket(self, ticket_id: str, *, lock: bool = False) -> DoorTicket | None: ...

    async def tickets_by_code(
        self, code: str, *, host_id: str | None = None, event_id: str | None = None
    ) -> list[DoorTicket]: ...

    async def admit(self, ticket_id: str, *, by: str) -> DoorTicket | None:
        """Check the ticket in if it is active and not checked in yet, in one statement."""

    async def claim_nonce(self, nonce: str, scanner_id: str, ticket_id: str) -> str | None:
        """Record the nonce; if the scanner already used it, the ticket id it was used for."""

    async def record_checked_in(self, ticket: DoorTicket) -> None:
        """Write `ticket.checked_in` to the outbox."""


@dataclass(frozen=True)
class CheckIn:
    actor: Actor
    attendance_code: str | None = None
    qr_payload: str | None = None
    event_id: str | None = None
    nonce: str | None = None


@dataclass(frozen=True)
class Admitted:
    ticket: DoorTicket
    replayed: bool = False


async def check_in(repo: DoorRepository, command: CheckIn, *, verify_qr: QrVerifier) -> Admitted:
    target = await _identify(repo, command, verify_qr)
    async with repo.transaction():
        if command.nonce:
            # The insert waits for a concurrent holder of the same nonce to commit, so a retry
            # racing its own lost first try still gets the first answer.
            owner = await repo.claim_nonce(command.nonce, command.actor.user_id, target.id)
            if owner is not None:
                if owner != target.id:
                    raise NonceReused()
                current = await repo.ticket(target.id)
                assert current is not None
                return Admitted(current, replayed=True)
        admitted = await repo.admit(target.id, by=command.actor.user_id)
        if admitted is None:
            current = await repo.ticket(target.id)
            raise refuse_check_in(current or target)
        if admitted.attendance_code != target.attendance_code:
            # A transfer gave the ticket a new code while this scan was on its way: the code or
            # QR shown is void, and raising here rolls the admission back.
            raise _void_credential(command)
        await repo.record_checked_in(admitted)
    return Admitted(admitted)


def _void_credential(command: CheckIn) -> Exception:
    """What a code or QR that no longer names the ticket meets (as after a transfer)."""
    if command.qr_payload is not None:
        return InvalidQrCode("The QR code does not match the ticket.")
    return TicketNotFound("No ticket with this code at your events.")


async def _identify(repo: DoorRepository, command: CheckIn, verify_qr: QrVerifier) -> DoorTicket:
    if command.qr_payload is not None:
        return await _by_qr(repo, command, verify_qr)
    assert command.attendance_code is not None
    return await find_by_code(
        repo, command.attendance_code, actor=command.actor, event_id=command.event_id
    )


async def _by_qr(repo: DoorRepository, command: CheckIn, verify_qr: QrVerifier) -> DoorTicket:
    assert command.qr_payload is not None
    claims = verify_qr(command.qr_payload.strip())
    ticket = await repo.ticket(claims.ticket_id)
    if ticket is None:
        raise TicketNotFound("No such ticket.")
    if ticket.attendance_code != claims.attendance_code:
        raise InvalidQrCode("The QR code does not match the ticket.")
    if not command.actor.runs(ticket.host_id):
        raise NotEventHost("Only the event's host or an admin may check tickets in.")
    if command.event_id is not None and command.event_id != ticket.event_id:
        raise WrongEvent(ticket.event_id)
    return ticket


async def find_by_code(
    repo: DoorRepository, code: str, *, actor: Actor, event_id: str | None
) -> DoorTicket:
    """The ticket with `code` among the events the actor runs (one event when `event_id`)."""
    normalised = normalise_attendance_code(code)
    if normalised is None:
        raise TicketNotFound("No ticket with this code at your events.")
    code = normalised
    if event_id is not None:
        found = await repo.tickets_by_code(code, event_id=event_id)
        if found and not actor.runs(found[0].host_id):
            raise NotEventHost("Only the event's host or an admin may look tickets up.")
    else:
        host_id = None if actor.is_admin else actor.user_id
        found = await repo.tickets_by_code(code, host_id=host_id)
    if not found:
        raise TicketNotFound("No ticket with this code at your events.")
    if len(found) > 1:
        raise AmbiguousCode([t.event_id for t in found])
    return found[0]
