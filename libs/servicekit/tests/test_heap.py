"""The serving process freezes its start-up heap and widens the youngest generation."""

import gc
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY
from servicekit import heap


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_settle_freezes_what_start_up_made_and_widens_the_young_generation(
    restored_collector: None,
) -> None:
    made_at_start_up = [{"route": n} for n in range(1000)]
    frozen = heap.settle()
    assert frozen == gc.get_freeze_count() >= len(made_at_start_up)
    assert gc.get_threshold()[0] == heap.YOUNG_GENERATION_THRESHOLD
    assert REGISTRY.get_sample_value("process_heap_frozen_objects") == frozen
    # A collection now walks only what came after: start-up's objects are not in any generation.
    tracked = {id(obj) for generation in range(3) for obj in gc.get_objects(generation)}
    assert id(made_at_start_up[0]) not in tracked
