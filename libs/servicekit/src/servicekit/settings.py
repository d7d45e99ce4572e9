"""Validated settings from the environment; production refuses development secrets."""

from typing import Literal, Self

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-in-production"  # noqa: S105 - the development default, refused in production


class InsecureSettings(Exception):
    """A production setting still has its development default."""


class ServiceSettings(BaseSettings):
    """What every service reads. A service subclasses it and adds its own fields.

    Subclasses list their own development-only secrets in `development_secrets()` so that
    `APP_ENV=production` refuses to start with any of them.
    """

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    app_env: Literal["development", "test", "production"] = "development"
    service_name: str = "service"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    log_level: str = "INFO"

    database_url: SecretStr = SecretStr("postgresql://postgres@127.0.0.1:5432/postgres")
    database_pool_min: int = 1
    database_pool_max: int = 10
    amqp_url: SecretStr = SecretStr("amqp://guest:guest@127.0.0.1:5672/")
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")

    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    jwt_issuer: str = "ticketing-dev"
    jwt_audience: str = "ticketing-api"
    jwt_algorithms: list[str] = ["HS256"]
    jwt_jwks_url: str | None = None

    consumer_prefetch: int = 16
    consumer_max_attempts: int = 5
    outbox_poll_seconds: float = 0.2
    outbox_batch_size: int = 100

    migrate_on_start: bool = True
    """False where a migration Job applies them (Kubernetes): start-up then only checks."""

    shutdown_drain_seconds: float = 0.0
    """After SIGTERM: how long to keep answering (readiness 503) before closing the listener,
    so the load balancer has taken the pod out (about 5 s on Kubernetes; 0 for a laptop)."""
    shutdown_grace_seconds: float = 10.0
    """Then: how long in-flight requests, messages and job runs get to finish."""

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    def development_secrets(self) -> dict[str, str]:
        """Setting name -> its development default, refused in production."""
        return {"jwt_secret": DEV_JWT_SECRET}

    @model_validator(mode="after")
    def _refuse_development_defaults_in_production(self) -> Self:
        if not self.is_production:
            return self
        offending = [
            name
            for name, dev_value in self.development_secrets().items()
            if _plain(getattr(self, name)) == dev_value
        ]
        if self.jwt_jwks_url is None and len(_plain(self.jwt_secret)) < 32:
            offending.append("jwt_secret (shorter than 32 characters)")
        if self.jwt_jwks_url is None and "HS256" not in self.jwt_algorithms:
            offending.append("jwt_jwks_url (needed for RS256)")
        if offending:
            raise InsecureSettings(
                "APP_ENV=production refuses development values for: " + ", ".join(offending)
            )
        return self


def _plain(value: object) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else str(value)
