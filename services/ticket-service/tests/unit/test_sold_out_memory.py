"""The sold-out memory alone: a second's finding, kept only while the LISTEN connection is up."""

from ticket_service.adapters.sold_out_memory import RecentlySoldOut
from ticket_service.domain.errors import SoldOut

FULL = SoldOut("This event is sold out.", details={"capacity": 500, "available": 0})


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_finding_lasts_its_seconds_and_each_recall_is_a_new_refusal() -> None:
    clock = Clock()
    memory = RecentlySoldOut(lambda: True, seconds=1.0, clock=clock)
    memory.remember("e1", FULL, mark=memory.mark())

    first, second = memory.recall("e1"), memory.recall("e1")
    clock.now += 1.0

    assert first is not None and second is not None and first is not second
    assert (str(first), first.details) == (str(FULL), FULL.details)
    assert memory.recall("e2") is None
    assert memory.recall("e1") is None


def test_nothing_is_trusted_while_not_listening_and_a_lost_listener_ends_what_was_kept() -> None:
    listening = [False]
    memory = RecentlySoldOut(lambda: listening[0])
    memory.remember("e1", FULL, mark=memory.mark())
    listening[0] = True
    assert memory.recall("e1") is None

    memory.remember("e1", FULL, mark=memory.mark())
    listening[0] = False
    assert memory.recall("e1") is None
    listening[0] = True
    assert memory.recall("e1") is None  # it went when the loss was seen


def test_seats_back_forget_their_event_and_a_reconnect_forgets_every_event() -> None:
    memory = RecentlySoldOut(lambda: True)
    for event_id in ("e1", "e2", "e3"):
        memory.remember(event_id, FULL, mark=memory.mark())

    memory.seats_came_back("e1")
    assert [memory.recall(e) is not None for e in ("e1", "e2", "e3")] == [False, True, True]
    memory.seats_came_back("")
    assert [memory.recall(e) is not None for e in ("e1", "e2", "e3")] == [False, False, False]


def test_zero_seconds_remembers_nothing_and_the_memory_stays_bounded() -> None:
    off = RecentlySoldOut(lambda: True, seconds=0)
    off.remember("e1", FULL, mark=off.mark())
    assert off.recall("e1") is None

    small = RecentlySoldOut(lambda: True, size=2)
    for event_id in ("e1", "e2", "e3"):
        small.remember(event_id, FULL, mark=small.mark())
    assert [small.recall(e) is not None for e in ("e1", "e2", "e3")] == [False, False, True]
