"""How the outside reaches the service: HTTP routes, the payment-event consumer, jobs."""
