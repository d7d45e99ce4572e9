"""payment-service settings: the shared ones plus Midtrans, with development defaults."""

from typing import ClassVar, Self
from urllib.parse import urlsplit

from pydantic import SecretStr, model_validator
from servicekit.settings import InsecureSettings, ServiceSettings

DEV_SERVER_KEY = "SB-Mid-server-local-dev-key"
DEV_CLIENT_KEY = "SB-Mid-client-local-dev-key"
LOCAL_SANDBOX_SNAP = "http://127.0.0.1:8090/snap/v1"
LOCAL_SANDBOX_CORE = "http://127.0.0.1:8090"
MIDTRANS_SNAP = {
    True: "https://app.midtrans.com/snap/v1",
    False: "https://app.sandbox.midtrans.com/snap/v1",
}
MIDTRANS_CORE = {True: "https://api.midtrans.com", False: "https://api.sandbox.midtrans.com"}
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


class PaymentSettings(ServiceSettings):
    uses_service_tokens: ClassVar[bool] = True  # /internal/payments accepts only them
    service_name: str = "payment-service"
    http_port: int = 8002
    database_url: SecretStr = SecretStr("postgresql://postgres@127.0.0.1:5432/payment_service")

    midtrans_server_key: SecretStr = SecretStr(DEV_SERVER_KEY)
    # The key notification signatures are checked with; unset: the server key (Midtrans signs
    # with the server key; a separate value allows a rotation or a signing proxy).
    midtrans_notification_key: SecretStr | None = None
    midtrans_client_key: str = DEV_CLIENT_KEY
    midtrans_is_production: bool = False
    # Unset: the local sandbox in development, Midtrans' own hosts in production.
    midtrans_snap_base_url: str | None = None
    midtrans_core_base_url: str | None = None
    # Sent as X-Override-Notification on Snap requests when set.
    midtrans_notification_url: str | None = None
    midtrans_timeout_seconds: float = 10.0
    midtrans_connect_timeout_seconds: float = 3.0
    midtrans_retries: int = 2  # extra attempts, for idempotent calls only
    # A notification is only a hint: what Midtrans' status API answers is what gets applied.
    # On in every environment; only APP_ENV=development may turn it off (see the README).
    midtrans_verify_with_status_api: bool = True
    snap_page_max_minutes: int = 60

    reconcile_interval_seconds: float = 30.0
    reconcile_pending_after_seconds: float = 300.0
    reconcile_batch_size: int = 50
    # Paid payments of upcoming events are asked about again (reversal, chargeback, a refund
    # made in the dashboard): the job's interval, and how often each payment at most.
    reconcile_paid_interval_seconds: float = 60.0
    reconcile_paid_after_seconds: float = 3600.0
    # A payment Midtrans never heard of (the customer never picked a method) is closed this
    # long after its hold ended: the Snap session is over by then.
    unpaid_grace_seconds: float = 120.0
    refund_interval_seconds: float = 1.0
    close_interval_seconds: float = 1.0

    # Per user, per window (Redis, shared by replicas): 429 with Retry-After beyond it.
    snap_token_rate_limit: int = 10
    status_rate_limit: int = 60
    rate_limit_window_seconds: int = 60
    # The status endpoint reuses Midtrans' answer this long, so polling cannot burn the quota.
    status_cache_seconds: float = 3.0
    # Invalid notification bodies (malformed, bad signature) stored per minute; the rest counted.
    invalid_notifications_stored_per_minute: int = 100
    # Where the guards' Redis keys live (one deployment's replicas share it).
    guard_key_prefix: str = "payment-service"

    @property
    def notification_signing_key(self) -> str:
        key = self.midtrans_notification_key or self.midtrans_server_key
        return key.get_secret_value()

    def development_secrets(self) -> dict[str, str]:
        return {**super().development_secrets(), "midtrans_server_key": DEV_SERVER_KEY}

    @property
    def snap_base_url(self) -> str:
        if self.midtrans_snap_base_url:
            return self.midtrans_snap_base_url.rstrip("/")
        if self.is_production:
            return MIDTRANS_SNAP[self.midtrans_is_production]
        return LOCAL_SANDBOX_SNAP

    @property
    def core_base_url(self) -> str:
        if self.midtrans_core_base_url:
            return self.midtrans_core_base_url.rstrip("/")
        if self.is_production:
            return MIDTRANS_CORE[self.midtrans_is_production]
        return LOCAL_SANDBOX_CORE

    @model_validator(mode="after")
    def _refuse_unsafe_midtrans_settings(self) -> Self:
        if not self.midtrans_verify_with_status_api and self.app_env != "development":
            raise InsecureSettings(
                "MIDTRANS_VERIFY_WITH_STATUS_API=false is allowed in development only: without "
                "it a leaked key (or a copied signature) could settle a payment by notification"
            )
        if not self.is_production:
            return self
        problems: list[str] = []
        key = self.midtrans_server_key.get_secret_value()
        if not key:
            problems.append("midtrans_server_key (empty)")
        if self.midtrans_is_production and key.startswith("SB-"):
            problems.append("midtrans_server_key (a sandbox key with MIDTRANS_IS_PRODUCTION)")
        for name, url in (("snap", self.snap_base_url), ("core", self.core_base_url)):
            parts = urlsplit(url)
            if parts.scheme != "https" or (parts.hostname or "") in _LOCAL_HOSTS:
                problems.append(f"midtrans_{name}_base_url ({url} is not a public https URL)")
            elif self.midtrans_is_production and "sandbox" in (parts.hostname or ""):
                problems.append(f"midtrans_{name}_base_url (a sandbox host in production mode)")
        if problems:
            raise InsecureSettings(
                "APP_ENV=production refuses these Midtrans settings: " + ", ".join(problems)
            )
        return self
