"""Sandbox settings, read from the environment once at start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_SERVER_KEY = "SB-Mid-server-local-dev-key"
DEFAULT_NOTIFICATION_URL = "http://127.0.0.1:8080/api/payment/notification"
DEFAULT_PORT = 8090


@dataclass(frozen=True, slots=True)
class Settings:
    server_key: str = DEFAULT_SERVER_KEY
    # The "dashboard" notification URL; empty means none (only per-transaction headers).
    notification_url: str = DEFAULT_NOTIFICATION_URL
    # Multiplies Midtrans' retry schedule (2m, 10m, 30m, 1.5h, 3.5h); 0.001 makes 2 min ~0.12 s.
    retry_scale: float = 1.0
    # Base of redirect_url; None means the base URL the Snap request came in on.
    public_url: str | None = None
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    merchant_id: str = "G141532850"
    notification_timeout: float = 15.0
    duplicate_rate: float = 0.0
    delay_rate: float = 0.0
    delay_seconds: float = 2.0
    fault_seed: int | None = None
    # How often pending transactions are checked against their expiry_time.
    sweep_interval: float = 0.5
    # Real Midtrans refuses refunds of bank transfers, e-channel and convenience stores.
    refund_any_method: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        source = os.environ if env is None else env
        values: dict[str, object] = {}
        text = {
            "server_key": "MIDTRANS_SERVER_KEY",
            "notification_url": "MIDTRANS_NOTIFICATION_URL",
            "public_url": "SANDBOX_PUBLIC_URL",
            "host": "SANDBOX_HOST",
            "merchant_id": "SANDBOX_MERCHANT_ID",
        }
        floats = {
            "retry_scale": "SANDBOX_RETRY_SCALE",
            "notification_timeout": "SANDBOX_NOTIFICATION_TIMEOUT",
            "duplicate_rate": "SANDBOX_DUPLICATE_RATE",
            "delay_rate": "SANDBOX_DELAY_RATE",
            "delay_seconds": "SANDBOX_DELAY_SECONDS",
            "sweep_interval": "SANDBOX_SWEEP_INTERVAL",
        }
        ints = {"port": "SANDBOX_PORT", "fault_seed": "SANDBOX_FAULT_SEED"}
        for field, name in text.items():
            if name in source:
                values[field] = source[name]
        for field, name in floats.items():
            if source.get(name):
                values[field] = float(source[name])
        for field, name in ints.items():
            if source.get(name):
                values[field] = int(source[name])
        if source.get("SANDBOX_REFUND_ANY_METHOD"):
            values["refund_any_method"] = source["SANDBOX_REFUND_ANY_METHOD"].lower() in {
                "1",
                "true",
                "yes",
            }
        values.update(overrides)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    def check(self) -> None:
        if not self.server_key:
            raise ValueError("MIDTRANS_SERVER_KEY must not be empty")
        if self.retry_scale < 0:
            raise ValueError("SANDBOX_RETRY_SCALE must be >= 0")
        for name in ("duplicate_rate", "delay_rate"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
