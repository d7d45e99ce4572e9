"""Use cases: open a payment, apply a gateway answer, refund, expire, reconcile."""
