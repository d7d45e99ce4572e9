"""The Snap request (its session ends with the hold) and the production refusals of settings."""

from datetime import UTC, datetime, timedelta

import pytest
from payment_service.domain.snap import (
    Customer,
    HoldExpired,
    Item,
    needs_new_token,
    snap_request,
)
from payment_service.settings import PaymentSettings
from servicekit.settings import InsecureSettings

NOW = datetime(2026, 12, 1, 3, 0, 0, tzinfo=UTC)


def request(hold: timedelta, max_page: int = 60) -> dict:  # type: ignore[type-arg]
    return snap_request(
        order_id="TIX-1",
        amount=150000,
        customer=Customer("Siti Rahma", "siti@example.id", "+628123"),
        items=[Item("t1", "Jakarta Jazz Night", 150000, 1)],
        hold_ends_at=NOW + hold,
        now=NOW,
        max_page_minutes=max_page,
    ).body


def test_snap_session_ends_exactly_when_the_hold_ends() -> None:
    body = request(timedelta(minutes=14, seconds=30))
    expiry = body["expiry"]
    start = datetime.strptime(expiry["start_time"], "%Y-%m-%d %H:%M:%S %z")
    assert start + timedelta(minutes=expiry["duration"]) == NOW + timedelta(minutes=14, seconds=30)
    assert expiry["start_time"].endswith("+0700")
    assert body["page_expiry"] == {"duration": 14, "unit": "minute"}
    assert body["transaction_details"] == {"order_id": "TIX-1", "gross_amount": 150000}
    assert body["customer_details"]["first_name"] == "Siti"
    assert body["customer_details"]["last_name"] == "Rahma"


def test_page_expiry_is_capped() -> None:
    assert request(timedelta(hours=5), max_page=60)["page_expiry"]["duration"] == 60


def test_a_hold_ending_within_a_minute_cannot_be_paid() -> None:
    with pytest.raises(HoldExpired):
        request(timedelta(seconds=30))


def test_token_is_renewed_only_when_the_page_expired_while_the_hold_stands() -> None:
    hold = NOW + timedelta(minutes=10)
    assert not needs_new_token(
        token="t", token_expires_at=NOW + timedelta(minutes=1), hold_ends_at=hold, now=NOW
    )
    assert needs_new_token(
        token="t", token_expires_at=NOW - timedelta(seconds=1), hold_ends_at=hold, now=NOW
    )
    assert not needs_new_token(
        token="t", token_expires_at=NOW - timedelta(seconds=1), hold_ends_at=NOW, now=NOW
    )
    assert needs_new_token(token=None, token_expires_at=None, hold_ends_at=hold, now=NOW)


def test_development_defaults_point_at_the_local_sandbox() -> None:
    settings = PaymentSettings()
    assert settings.snap_base_url == "http://127.0.0.1:8090/snap/v1"
    assert settings.core_base_url == "http://127.0.0.1:8090"
    assert settings.http_port == 8002


PROD = {"app_env": "production", "jwt_secret": "x" * 40, "service_token_secret": "s" * 40}


def test_production_refuses_the_development_server_key() -> None:
    with pytest.raises(InsecureSettings, match="midtrans_server_key"):
        PaymentSettings(**PROD)


def test_production_refuses_local_base_urls() -> None:
    with pytest.raises(InsecureSettings, match="base_url"):
        PaymentSettings(
            **PROD,
            midtrans_server_key="SB-Mid-server-real",
            midtrans_core_base_url="http://127.0.0.1:8090",
        )


def test_production_refuses_a_sandbox_key_in_production_mode() -> None:
    with pytest.raises(InsecureSettings, match="sandbox key"):
        PaymentSettings(
            **PROD, midtrans_server_key="SB-Mid-server-real", midtrans_is_production=True
        )


def test_production_uses_midtrans_hosts_by_default() -> None:
    live = PaymentSettings(
        **PROD, midtrans_server_key="Mid-server-real", midtrans_is_production=True
    )
    assert live.snap_base_url == "https://app.midtrans.com/snap/v1"
    assert live.core_base_url == "https://api.midtrans.com"
    staging = PaymentSettings(**PROD, midtrans_server_key="SB-Mid-server-real")
    assert staging.core_base_url == "https://api.sandbox.midtrans.com"
