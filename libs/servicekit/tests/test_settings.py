"""Production refuses development secrets; development runs on its defaults."""

import pytest
from pydantic import SecretStr
from servicekit.settings import InsecureSettings, ServiceSettings

STRONG = "x" * 48


def test_development_starts_on_its_defaults() -> None:
    assert ServiceSettings().app_env == "development"


def test_production_refuses_the_development_jwt_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(InsecureSettings, match="jwt_secret"):
        ServiceSettings()


def test_production_refuses_a_short_jwt_secret() -> None:
    with pytest.raises(InsecureSettings, match="shorter than 32"):
        ServiceSettings(app_env="production", jwt_secret=SecretStr("short-secret"))


def test_production_starts_with_real_secrets_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("JWT_SECRET", STRONG)
    settings = ServiceSettings()
    assert settings.is_production
    assert STRONG not in repr(settings), "secrets never print"


def test_a_service_adds_its_own_development_secrets() -> None:
    class PaymentLike(ServiceSettings):
        server_key: SecretStr = SecretStr("SB-Mid-server-local-dev-key")

        def development_secrets(self) -> dict[str, str]:
            return {**super().development_secrets(), "server_key": "SB-Mid-server-local-dev-key"}

    with pytest.raises(InsecureSettings, match="server_key"):
        PaymentLike(app_env="production", jwt_secret=SecretStr(STRONG))
    assert PaymentLike(
        app_env="production", jwt_secret=SecretStr(STRONG), server_key=SecretStr("Mid-server-real")
    ).is_production
