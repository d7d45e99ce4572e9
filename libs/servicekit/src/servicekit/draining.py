"""While a service drains, every response says `Connection: close`.

A proxy (the gateway's keep-alive upstream, kube-proxy's tracked connections) would otherwise
keep sending on a connection to this pod until the listener closes, and a request that meets the
close is lost. With `Connection: close` each answer ends its connection, so the next request opens
a new one, which goes to a pod that is still ready.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class CloseConnectionsWhenDraining:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        app_state = getattr(scope.get("app"), "state", None)

        async def send_closing(message: Message) -> None:
            runtime = getattr(app_state, "runtime", None)
            if message["type"] == "http.response.start" and getattr(runtime, "draining", False):
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"
                ]
                message["headers"] = [*headers, (b"connection", b"close")]
            await send(message)

        await self.app(scope, receive, send_closing)
