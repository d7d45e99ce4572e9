"""The stack table: the developer's values, and an isolated copy that shares nothing with them."""

from __future__ import annotations

import os
from pathlib import Path

from devstack.config import SERVICES, StackConfig


def test_development_values_match_the_conventions() -> None:
    config = StackConfig.development()
    env = config.process("payment-service").env
    assert config.run_dir == config.repo_root / ".run"
    assert env["DATABASE_URL"] == "postgresql://postgres@127.0.0.1:5432/payment_service"
    assert env["AMQP_URL"] == "amqp://guest:guest@127.0.0.1:5672/%2F"
    assert env["REDIS_URL"] == "redis://127.0.0.1:6379/0"
    assert env["HTTP_PORT"] == "8002"
    assert env["MIDTRANS_NOTIFICATION_URL"] == "http://127.0.0.1:8080/api/payment/notification"
    assert env["MIDTRANS_SNAP_BASE_URL"] == "http://127.0.0.1:8090/snap/v1"
    assert config.process("ticket-service").env["PAYMENT_SERVICE_URL"] == "http://127.0.0.1:8002"
    gateway = config.process("notification-gateway").env
    assert gateway["SMTP_PORT"] == "1025"
    assert gateway["TICKET_SERVICE_URL"] == "http://127.0.0.1:8001"
    keys = {config.process(name).env["SERVICE_TOKEN_SECRET"] for name in SERVICES}
    assert len(keys) == 1  # they sign and check each other's /internal/* calls with one key
    sandbox = config.process("midtrans-sandbox")
    assert sandbox.argv[-2:] == ("--port", "8090")
    assert sandbox.env["MIDTRANS_SERVER_KEY"] == env["MIDTRANS_SERVER_KEY"]


def test_isolated_copy_has_its_own_ports_databases_vhost_and_redis_db(tmp_path: Path) -> None:
    dev = StackConfig.development()
    e2e = StackConfig.isolated(tmp_path)
    dev_ports = {spec.port for spec in dev.processes()}
    e2e_ports = {spec.port for spec in e2e.processes()}
    assert len(e2e_ports) == len(e2e.processes())
    assert not dev_ports & e2e_ports
    env = e2e.process("ticket-service").env
    label = f"e2e_{os.environ['TEST_NAMESPACE']}" if os.environ.get("TEST_NAMESPACE") else "e2e"
    assert env["DATABASE_URL"].endswith(f"/ticket_service_{label}")
    assert f"/{label}.run-" in env["AMQP_URL"]
    assert env["REDIS_URL"].endswith("/5")
    assert e2e.process("midtrans-sandbox").env["SANDBOX_RETRY_SCALE"] == "0.01"
    assert e2e.run_dir == tmp_path
    assert e2e.process("payment-service").env["MIDTRANS_NOTIFICATION_URL"] == (
        f"{e2e.gateway_url}/api/payment/notification"
    )
