"""HTTP routes, the event consumer and the background jobs."""
