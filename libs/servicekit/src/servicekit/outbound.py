"""The services' outbound HTTP (payment-service, Midtrans, ticket-service's receipts): httpx's
interface on aiohttp's connection pool, kept alive and bounded.

httpx stays the interface the clients, their tests (`httpx.MockTransport`) and the Midtrans call
metrics are written against. Its own pool (httpcore 1.0) was the cost: for every request it
rescans every pooled connection, polling each socket to see whether it expired, and it closes an
idle connection whenever the pool holds more than `max_keepalive_connections` of them. Under a
flash sale that was over half of a purchase's CPU in ticket-service and of a webhook's in
payment-service. `PooledTransport` sends the request on an aiohttp `TCPConnector` instead (idle
connections in a queue, no scan) and maps aiohttp's errors onto httpx's, so callers still catch
`httpx.TimeoutException` and `httpx.TransportError`.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
import httpx
from yarl import URL

# An idle connection is closed after this long: before uvicorn closes its end (5 s), so a call
# is not sent on a connection the server is closing at that moment.
KEEPALIVE_SECONDS = 4.0
# Headers aiohttp writes itself from the request it sends; httpx's copies would be duplicates.
_OWN_HEADERS = frozenset({b"host", b"content-length", b"transfer-encoding", b"connection"})


class PooledTransport(httpx.AsyncBaseTransport):
    """At most `size` connections at once (more calls wait in aiohttp's queue, which costs
    nothing per waiter), each kept alive for `KEEPALIVE_SECONDS` when idle."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        # Made on first use: a session belongs to the event loop that runs the requests.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._size, keepalive_timeout=KEEPALIVE_SECONDS
                ),
                auto_decompress=False,  # httpx decodes the body, as with its own transport
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in request.headers.raw
            if name.lower() not in _OWN_HEADERS
        ]
        body = await request.aread()
        with _as_httpx_errors(request):
            async with self._open().request(
                request.method,
                URL(str(request.url), encoded=True),
                headers=headers,
                data=body or None,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(
                    total=None, connect=timeouts.get("connect"), sock_read=timeouts.get("read")
                ),
            ) as answer:
                content = await answer.read()
                return httpx.Response(
                    answer.status,
                    headers=[
                        (name.decode("latin-1"), value.decode("latin-1"))
                        for name, value in answer.raw_headers
                    ],
                    # A stream, as from httpx's own transport: callers read it raw or decoded.
                    stream=httpx.ByteStream(content),
                    request=request,
                )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


@contextmanager
def _as_httpx_errors(request: httpx.Request) -> Iterator[None]:
    """aiohttp's failures as the httpx errors the callers handle (timeouts first: a connect
    timeout is also a connection error in aiohttp's hierarchy)."""
    try:
        yield
    except aiohttp.ConnectionTimeoutError as exc:
        raise httpx.ConnectTimeout(str(exc) or "connect timeout", request=request) from exc
    except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
        raise httpx.ReadTimeout(str(exc) or "read timeout", request=request) from exc
    except aiohttp.ClientConnectorError as exc:
        raise httpx.ConnectError(str(exc), request=request) from exc
    except aiohttp.ClientError as exc:
        raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc
