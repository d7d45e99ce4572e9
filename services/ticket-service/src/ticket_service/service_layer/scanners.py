"""The host's scanners: registering, listing and revoking an event's devices (a revoke shuts one
out at once), and rotating the key its QRs are signed with.

Another host meets a missing event everywhere here, as a stranger does (404, never 403).

A revoked scanner's token gets 401 on its next call; an upload it already started counts only if
it commits before the revoke does (offline_door.sync_scans holds the scanner's row until then).
"""

from typing import Protocol

from ticket_service.domain.door import Actor
from ticket_service.domain.errors import EventNotFound
from ticket_service.domain.gates import CheckInListNotFound
from ticket_service.domain.scanners import RegisteredScanner, Scanner, ScannerNotFound
from ticket_service.service_layer.gates import GatesRepository, check_in_lists


class ScannersRepository(Protocol):
    async def event_host(self, event_id: str) -> str | None: ...

    async def scanners(self, event_id: str) -> list[Scanner]:
        """Oldest first, the revoked ones too."""

    async def revoke(self, event_id: str, scanner_id: str, *, by: str) -> Scanner | None:
        """Revoke once (again: unchanged); None when the event has no such scanner."""

    async def register(
        self, event_id: str, *, name: str, list_ids: list[str] | None, by: str
    ) -> RegisteredScanner:
        """A new scanner with a new token (only its hash is kept)."""

    async def rotate_key(self, event_id: str) -> None:
        """A new signing key for the event's QRs; the one it replaces keeps verifying."""


async def _run_host_of(repo: ScannersRepository, event_id: str, actor: Actor) -> None:
    """The event's host or an admin; another host meets a missing event, as a stranger does."""
    host_id = await repo.event_host(event_id)
    if host_id is None or not actor.runs(host_id):
        raise EventNotFound("No ticketed event with this id.")


async def event_scanners(repo: ScannersRepository, *, event_id: str, actor: Actor) -> list[Scanner]:
    await _run_host_of(repo, event_id, actor)
    return await repo.scanners(event_id)


async def revoke_scanner(
    repo: ScannersRepository, *, event_id: str, scanner_id: str, actor: Actor
) -> Scanner:
    await _run_host_of(repo, event_id, actor)
    revoked = await repo.revoke(event_id, scanner_id, by=actor.user_id)
    if revoked is None:
        raise ScannerNotFound("The event has no scanner with this id.")
    return revoked


async def register_scanner(
    repo: ScannersRepository,
    lists: GatesRepository,
    *,
    event_id: str,
    name: str,
    list_ids: list[str] | None,
    actor: Actor,
) -> RegisteredScanner:
    """A device for the event's door, limited to `list_ids` (None: every list of the event)."""
    await _run_host_of(repo, event_id, actor)
    known = {gate.id for gate in await check_in_lists(lists, event_id=event_id, actor=actor)}
    for list_id in list_ids or []:
        if list_id not in known:
            raise CheckInListNotFound(list_id)
    return await repo.register(event_id, name=name, list_ids=list_ids, by=actor.user_id)


async def rotate_check_in_key(repo: ScannersRepository, *, event_id: str, actor: Actor) -> None:
    await _run_host_of(repo, event_id, actor)
    await repo.rotate_key(event_id)
