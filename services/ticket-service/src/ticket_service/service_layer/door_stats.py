"""The host's live count: admitted per list and type, who is inside now, the last scans."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ticket_service.domain.door import Actor
from ticket_service.service_layer.gates import GatesRepository, run_door_of


@dataclass(frozen=True)
class AdmittedCount:
    list_id: str
    ticket_type_id: str | None
    admitted: int


@dataclass(frozen=True)
class ScanLine:
    ticket_id: str | None
    holder_name: str | None
    ticket_type_id: str | None
    list_id: str
    direction: str
    result: str
    reason: str | None
    flagged: bool
    offline: bool
    scanned_at: datetime
    scanned_by: str


@dataclass(frozen=True)
class DoorStats:
    admitted: int
    inside: int
    flagged: int
    by_list_and_type: Sequence[AdmittedCount]
    last_scans: Sequence[ScanLine]


class DoorStatsReader(GatesRepository, Protocol):
    async def door_stats(self, event_id: str, *, last: int) -> DoorStats: ...


async def check_in_stats(
    repo: DoorStatsReader, *, event_id: str, actor: Actor, last: int = 20
) -> DoorStats:
    await run_door_of(repo, event_id, actor)
    return await repo.door_stats(event_id, last=last)
