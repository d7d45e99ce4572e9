"""The host's scanners: listing an event's devices and revoking one, which shuts it out at once.

A revoked scanner's token gets 401 on its next call; an upload it already started counts only if
it commits before the revoke does (offline_door.sync_scans holds the scanner's row until then).
"""

from typing import Protocol

from ticket_service.domain.door import Actor
from ticket_service.domain.errors import EventNotFound
from ticket_service.domain.scanners import Scanner, ScannerNotFound


class ScannersRepository(Protocol):
    async def event_host(self, event_id: str) -> str | None: ...

    async def scanners(self, event_id: str) -> list[Scanner]:
        """Oldest first, the revoked ones too."""

    async def revoke(self, event_id: str, scanner_id: str, *, by: str) -> Scanner | None:
        """Revoke once (again: unchanged); None when the event has no such scanner."""


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
