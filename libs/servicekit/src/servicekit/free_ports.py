"""Ports for the processes a test or a dev stack starts, that nothing else on the machine takes.

Asking the OS for port 0 and closing the socket is racy: the same port is free again at once, so
the next `bind(0)` anywhere on the machine, or the local end of any outgoing connection, can take
it before our process binds it (a Midtrans sandbox once took ticket-service's port, and the
service's readiness check then reached the sandbox). The kernel hands out both only from
`ip_local_port_range` (32768-60999 by default), so these come from below it: random, never the
same twice in one process, and bindable at the moment they are handed out.
"""

import random
import socket

LOWEST = 20000
HIGHEST = 32767  # the port just below Linux's default ephemeral range

_handed_out: set[int] = set()
_random = random.SystemRandom()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that is free now, outside the ephemeral range, not handed out before."""
    for _ in range(1000):
        port = _random.randint(LOWEST, HIGHEST)
        if port in _handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port between {LOWEST} and {HIGHEST} on {host}")
