"""HTTP routes, the event consumer and the delivery job."""
