"""Validated settings from the environment; production refuses development secrets."""

from typing import ClassVar, Literal, Self

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-in-production"  # noqa: S105 - the development default, refused in production
DEV_SERVICE_TOKEN_SECRET = "dev-only-service-token-secret-change-me"  # noqa: S105 - as above
MIN_HS256_SECRET_BYTES = 32  # RFC 7518 3.2: a key at least as long as the hash


class InsecureSettings(Exception):
    """A production setting still has its development default."""


class ServiceSettings(BaseSettings):
    """What every service reads. A service subclasses it and adds its own fields.

    Subclasses list their own development-only secrets in `development_secrets()` so that
    `APP_ENV=production` refuses to start with any of them.
    """

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)
    # A service that signs or accepts service tokens says so; production then needs its key.
    uses_service_tokens: ClassVar[bool] = False

    app_env: Literal["development", "test", "production"] = "development"
    service_name: str = "service"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    web_concurrency: int = 1
    """Worker processes serving the port (`servicekit.serve`); `make run` uses one per core."""
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
    # Service-to-service tokens (servicekit.service_tokens): their own key and audience, so
    # they work whatever the users' identity provider signs with.
    service_token_secret: SecretStr = SecretStr(DEV_SERVICE_TOKEN_SECRET)
    service_token_audience: str = "ticketing-internal"  # noqa: S105 - an audience, not a secret

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
        secrets = {"jwt_secret": DEV_JWT_SECRET}
        if self.uses_service_tokens:
            secrets["service_token_secret"] = DEV_SERVICE_TOKEN_SECRET
        return secrets

    @model_validator(mode="after")
    def _refuse_weak_keys(self) -> Self:
        """HS256 next to JWKS means a real deployment in any APP_ENV: its key must be strong."""
        if self.jwt_jwks_url and "HS256" in self.jwt_algorithms and _short(self.jwt_secret):
            raise InsecureSettings(
                f"JWT_SECRET is shorter than {MIN_HS256_SECRET_BYTES} bytes while HS256 is"
                " accepted next to JWT_JWKS_URL; use a longer secret or drop HS256"
            )
        return self

    @model_validator(mode="after")
    def _refuse_development_defaults_in_production(self) -> Self:
        if not self.is_production:
            return self
        offending = [
            name
            for name, dev_value in self.development_secrets().items()
            if _plain(getattr(self, name)) == dev_value
        ]
        if "HS256" in self.jwt_algorithms and _short(self.jwt_secret):
            offending.append(f"jwt_secret (shorter than {MIN_HS256_SECRET_BYTES} bytes)")
        if self.jwt_jwks_url is None and "HS256" not in self.jwt_algorithms:
            offending.append("jwt_jwks_url (needed for RS256)")
        if self.uses_service_tokens:
            offending.extend(self._service_key_problems())
        if offending:
            raise InsecureSettings(
                "APP_ENV=production refuses development values for: " + ", ".join(offending)
            )
        return self

    def _service_key_problems(self) -> list[str]:
        problems = []
        if _short(self.service_token_secret):
            problems.append(f"service_token_secret (shorter than {MIN_HS256_SECRET_BYTES} bytes)")
        if _plain(self.service_token_secret) == _plain(self.jwt_secret):
            problems.append("service_token_secret (the same as jwt_secret)")
        return problems


def _short(secret: SecretStr) -> bool:
    return len(secret.get_secret_value().encode()) < MIN_HS256_SECRET_BYTES


def _plain(value: object) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else str(value)
