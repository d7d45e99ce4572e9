"""Production refuses development secrets; development runs on its defaults."""

import re

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


def test_a_short_hs256_secret_next_to_jwks_is_refused_in_any_environment() -> None:
    with pytest.raises(InsecureSettings, match="shorter than 32 bytes"):
        ServiceSettings(
            jwt_jwks_url="https://id.example.id/.well-known/jwks.json",
            jwt_algorithms=["RS256", "HS256"],
            jwt_secret=SecretStr("x" * 31),
        )
    # RS256 only: the HS256 secret is never used, so its length does not matter.
    assert ServiceSettings(
        jwt_jwks_url="https://id.example.id/.well-known/jwks.json",
        jwt_algorithms=["RS256"],
        jwt_secret=SecretStr("short"),
    ).jwt_algorithms == ["RS256"]


def test_length_counts_bytes_not_characters() -> None:
    with pytest.raises(InsecureSettings, match="jwt_secret"):
        ServiceSettings(app_env="production", jwt_secret=SecretStr("é" * 15))  # 30 bytes


class ServiceKeyUser(ServiceSettings):
    uses_service_tokens = True


@pytest.mark.parametrize(
    ("service_key", "problem"),
    [
        (None, "service_token_secret"),  # the development default
        ("s" * 31, "service_token_secret (shorter than 32 bytes)"),
        (STRONG, "service_token_secret (the same as jwt_secret)"),
    ],
)
def test_production_refuses_a_weak_service_token_key(service_key: str | None, problem: str) -> None:
    extra = {} if service_key is None else {"service_token_secret": SecretStr(service_key)}
    with pytest.raises(InsecureSettings, match=re.escape(problem)):
        ServiceKeyUser(app_env="production", jwt_secret=SecretStr(STRONG), **extra)


def test_a_service_that_uses_no_service_tokens_needs_no_key_in_production() -> None:
    assert ServiceSettings(app_env="production", jwt_secret=SecretStr(STRONG)).is_production
    assert ServiceKeyUser(
        app_env="production", jwt_secret=SecretStr(STRONG), service_token_secret=SecretStr("k" * 40)
    ).is_production
