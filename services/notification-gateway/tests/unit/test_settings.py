"""Production refuses the development FCM token, but only when push is on."""

import pytest
from notification_gateway.settings import NotificationSettings
from servicekit.settings import InsecureSettings

STRONG = "a-production-secret-that-is-long-enough-1234"


def test_production_refuses_the_development_fcm_token_when_push_is_on() -> None:
    with pytest.raises(InsecureSettings, match="fcm_access_token"):
        NotificationSettings(
            app_env="production", jwt_secret=STRONG, fcm_endpoint="https://fcm.googleapis.com"
        )


def test_production_without_push_needs_no_fcm_token() -> None:
    settings = NotificationSettings(app_env="production", jwt_secret=STRONG)
    assert settings.fcm_endpoint == ""
    assert settings.default_language == "id"
