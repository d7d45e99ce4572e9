"""The cyclic garbage collector of a long-running service: the start-up heap frozen once, and
room for the objects of the requests in flight.

Measured under `make bench` (issue 13), with CPython's defaults: ticket-service ran 8 full
(generation 2) collections in one run, 50-130 ms each; payment-service 5 and
notification-gateway 4. Every request and message in flight waits for one, so they made the tail
(p99 0.5-1 s) and the stalls in the middle of a run. Most of what a full collection walks was
made at start-up and lives as long as the process: modules, FastAPI's routes and their models,
pydantic's validators, prepared SQL. `settle` collects once when start-up is done and freezes that
heap (`gc.freeze`), so later collections walk only what was made since.

The youngest generation is collected after 10,000 new objects, not 700: at 700 a collection
runs every request or so and promotes the objects of the 50 requests in flight, which die soon
after in an older generation that is collected far less cheaply. Same run, after the freeze:
ticket-service's collections took 616 ms with 700 (606 young, 55 middle, 5 full), 150 ms with
10,000 (12 young, 1 middle, none full).

Objects are still freed by their reference counts; only cycles among the frozen are never
collected, and those were made once. The serving process calls it (`servicekit.serve`, after the
lifespan's start-up, in each worker), not `build_app`: an app in a test's process is left alone.
"""

import gc

from prometheus_client import Gauge

YOUNG_GENERATION_THRESHOLD = 10_000

FROZEN_OBJECTS = Gauge(
    "process_heap_frozen_objects",
    "Objects frozen at start-up (gc.freeze): never walked by the cyclic garbage collector.",
)


def settle() -> int:
    """Collect, freeze what is left, widen the youngest generation; the objects frozen."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, oldest)
    frozen = gc.get_freeze_count()
    FROZEN_OBJECTS.set(frozen)
    return frozen
