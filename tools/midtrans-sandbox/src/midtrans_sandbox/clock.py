"""The sandbox's clock: real time plus an offset tests can advance, and Midtrans' GMT+7 format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

JAKARTA = timezone(timedelta(hours=7), "WIB")
MIDTRANS_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


class Clock:
    def __init__(self) -> None:
        self._offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += timedelta(seconds=seconds)

    def reset(self) -> None:
        self._offset = timedelta()

    @property
    def offset_seconds(self) -> float:
        return self._offset.total_seconds()


def midtrans_time(moment: datetime) -> str:
    """Format a moment as Midtrans does: 'YYYY-MM-DD HH:MM:SS' in GMT+7, without an offset."""
    return moment.astimezone(JAKARTA).strftime(MIDTRANS_TIME_FORMAT)


def parse_midtrans_start_time(text: str) -> datetime:
    """Parse Snap's expiry.start_time, e.g. '2020-04-13 18:11:08 +0700'."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z")
