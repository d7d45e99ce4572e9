"""Use cases: each handler runs one business operation in one transaction."""
