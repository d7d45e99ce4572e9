"""Production refuses the development FCM token (only when push is on) and the development
service-token key (it signs the receipt requests to ticket-service)."""

import re

import pytest
from notification_gateway.settings import NotificationSettings
from servicekit.settings import InsecureSettings

STRONG = "a-production-secret-that-is-long-enough-1234"
SERVICE_KEY = "a-service-token-key-that-is-long-enough-5678"


def test_production_refuses_the_development_fcm_token_when_push_is_on() -> None:
    with pytest.raises(InsecureSettings, match="fcm_access_token"):
        NotificationSettings(
            app_env="production",
            jwt_secret=STRONG,
            service_token_secret=SERVICE_KEY,
            fcm_endpoint="https://fcm.googleapis.com",
        )


def test_production_without_push_needs_no_fcm_token() -> None:
    settings = NotificationSettings(
        app_env="production", jwt_secret=STRONG, service_token_secret=SERVICE_KEY
    )
    assert settings.fcm_endpoint == ""
    assert settings.default_language == "id"


@pytest.mark.parametrize(
    ("service_key", "problem"),
    [
        (None, "service_token_secret"),  # the development default
        ("s" * 31, "service_token_secret (shorter than 32 bytes)"),
        (STRONG, "service_token_secret (the same as jwt_secret)"),
    ],
)
def test_production_refuses_a_weak_key_for_the_receipt_requests(
    service_key: str | None, problem: str
) -> None:
    extra = {} if service_key is None else {"service_token_secret": service_key}
    with pytest.raises(InsecureSettings, match=re.escape(problem)):
        NotificationSettings(app_env="production", jwt_secret=STRONG, **extra)
