"""python -m midtrans_sandbox starts a real server configured from the environment."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time

import httpx
from servicekit.free_ports import free_port


def test_module_runs_uvicorn_with_env_settings():
    port = free_port()
    env = {
        **os.environ,
        "MIDTRANS_SERVER_KEY": "SB-Mid-server-from-env",
        "SANDBOX_PUBLIC_URL": "https://pay.example",
        "MIDTRANS_NOTIFICATION_URL": "",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "midtrans_sandbox", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                health = httpx.get(f"{base}/_sandbox/health", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "sandbox did not start"
                time.sleep(0.05)
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        key = base64.b64encode(b"SB-Mid-server-from-env:").decode()
        created = httpx.post(
            f"{base}/snap/v1/transactions",
            json={"transaction_details": {"order_id": "env-1", "gross_amount": 1000}},
            headers={"Authorization": f"Basic {key}"},
        )
        assert created.status_code == 201
        assert created.json()["redirect_url"].startswith("https://pay.example/snap/v3/redirection/")
    finally:
        process.terminate()
        process.wait(timeout=10)
