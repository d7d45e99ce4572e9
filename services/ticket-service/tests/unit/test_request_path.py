"""No dependency or endpoint of ticket-service hops to a thread: all run on the event loop."""

from servicekit.testing import threaded_dependencies
from ticket_service.bootstrap import create_app


def test_no_endpoint_or_dependency_runs_on_the_thread_pool() -> None:
    # A plain `def` is run by FastAPI on its thread pool: a thread hop per request for a
    # dependency that only builds a repository. Those are `async def`.
    assert threaded_dependencies(create_app()) == []
