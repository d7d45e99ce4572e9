"""The host's gates: storing a check-in list and listing an event's lists (with `default`)."""

from collections.abc import Sequence
from typing import Protocol

from ticket_service.domain.door import Actor
from ticket_service.domain.errors import EventNotFound, NotEventHost

__all__ = ["EventNotFound", "check_in_lists", "put_check_in_list", "run_door_of", "run_host_of"]
from ticket_service.domain.gates import (
    DEFAULT_LIST_ID,
    CheckInList,
    GateTerms,
    TicketTypeNotFound,
    default_list,
    validate_terms,
)


class GatesRepository(Protocol):
    async def event_host(self, event_id: str) -> str | None: ...

    async def put_list(self, event_id: str, list_id: str, terms: GateTerms) -> CheckInList: ...

    async def lists(self, event_id: str) -> Sequence[CheckInList]: ...

    async def known_types(self, event_id: str, type_ids: Sequence[str]) -> set[str]: ...


async def run_door_of(repo: GatesRepository, event_id: str, actor: Actor) -> None:
    """The event's host, an admin, or the event's scanner; a stranger meets a missing event."""
    host_id = await repo.event_host(event_id)
    if host_id is None or not actor.works_door_of(event_id, host_id):
        raise EventNotFound("No ticketed event with this id.")


async def run_host_of(repo: GatesRepository, event_id: str, actor: Actor) -> str:
    """The event's host id, for its host or an admin only."""
    host_id = await repo.event_host(event_id)
    if host_id is None:
        raise EventNotFound("No ticketed event with this id.")
    if not actor.runs(host_id):
        raise NotEventHost("Only the event's host or an admin may do this.")
    return host_id


async def put_check_in_list(
    repo: GatesRepository, *, event_id: str, list_id: str, terms: GateTerms, actor: Actor
) -> CheckInList:
    await run_host_of(repo, event_id, actor)
    validate_terms(terms)
    wanted = sorted(terms.ticket_type_ids or ())
    unknown = set(wanted) - await repo.known_types(event_id, wanted)
    if unknown:
        raise TicketTypeNotFound(
            "The event has no ticket type with these ids.",
            details={"ticket_type_ids": sorted(unknown)},
        )
    return await repo.put_list(event_id, list_id, terms)


async def check_in_lists(
    repo: GatesRepository, *, event_id: str, actor: Actor
) -> list[CheckInList]:
    """Every list of the event, `default` first (the built-in one unless the host stored one)."""
    await run_door_of(repo, event_id, actor)
    stored = list(await repo.lists(event_id))
    if not any(gate.id == DEFAULT_LIST_ID for gate in stored):
        stored.insert(0, default_list(event_id))
    visible = [gate for gate in stored if actor.may_use_list(gate.id)]
    return sorted(visible, key=lambda gate: (gate.id != DEFAULT_LIST_ID, gate.id))
