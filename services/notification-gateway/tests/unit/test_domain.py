"""The pure parts: money and time as people read them, and retry timing."""

from datetime import UTC, datetime

import pytest
from notification_gateway.domain.formatting import rupiah, wib
from notification_gateway.domain.model import gives_up, retry_delay


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (150000, "Rp150.000"),
        (0, "Rp0"),
        (999, "Rp999"),
        (1234567, "Rp1.234.567"),
        (-5000, "-Rp5.000"),
    ],
)
def test_rupiah_uses_dots_between_thousands(amount: int, text: str) -> None:
    assert rupiah(amount) == text


def test_times_read_in_jakarta_time_in_either_language() -> None:
    moment = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)  # 1 January 2027, 00:30 in Jakarta
    assert wib(moment, "id") == "Jumat, 1 Januari 2027 pukul 00.30 WIB"
    assert wib(moment, "en") == "Friday, 1 January 2027, 00:30 WIB"


def test_retries_back_off_exponentially_up_to_a_ceiling() -> None:
    delays = [retry_delay(n, base_seconds=5, max_seconds=60) for n in range(1, 7)]
    assert delays == [5, 10, 20, 40, 60, 60]


def test_a_delivery_gives_up_at_its_last_attempt() -> None:
    assert not gives_up(5, 6)
    assert gives_up(6, 6)


def test_stream_ids_compare_as_numbers_not_text() -> None:
    from notification_gateway.domain.stream import id_order

    assert id_order("999-5") < id_order("1000-0")
    assert id_order("1000-2") < id_order("1000-10")
    assert id_order("0") == (0, 0)
