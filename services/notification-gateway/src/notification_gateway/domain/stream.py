"""An entry of a person's live stream, and how stream ids compare."""

from dataclasses import dataclass


@dataclass(frozen=True)
class StreamEntry:
    id: str
    event: str
    data: str


def id_order(entry_id: str) -> tuple[int, int]:
    """Stream ids compare as (milliseconds, sequence), not as text."""
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)
