"""Connection limits for the services' outbound httpx clients (payment-service, Midtrans).

httpcore 1.0 closes an idle connection whenever the pool holds more connections than
`max_keepalive_connections` (it counts all of them, not the idle ones), so with the defaults
(100 connections, 20 kept) a burst of 50 concurrent calls reconnects on nearly every call; and
it rescans every connection for every queued request, so a large pool costs CPU per call. A
modest pool that keeps every connection alive reuses them and scans little.
"""

import httpx

KEEPALIVE_CONNECTIONS = 16

KEEPALIVE_LIMITS = httpx.Limits(
    max_connections=KEEPALIVE_CONNECTIONS,
    max_keepalive_connections=KEEPALIVE_CONNECTIONS,
    keepalive_expiry=30.0,
)
