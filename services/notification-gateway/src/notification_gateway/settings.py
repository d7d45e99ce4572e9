"""notification-gateway settings: the shared ones plus SMTP, FCM, retries and the stream."""

from typing import ClassVar, Literal

from pydantic import SecretStr
from servicekit.settings import ServiceSettings

DEV_FCM_ACCESS_TOKEN = "dev-only-fcm-access-token"  # noqa: S105 - development default, refused in production


class NotificationSettings(ServiceSettings):
    # It signs them for ticket-service's receipt route: production refuses the development key.
    uses_service_tokens: ClassVar[bool] = True
    service_name: str = "notification-gateway"
    http_port: int = 8003
    database_url: SecretStr = SecretStr("postgresql://postgres@127.0.0.1:5432/notification_gateway")

    # E-mail over SMTP. SMTP_TLS: "none" (plain, the dev sink), "starttls" (port 587), "tls" (465).
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_tls: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "Tiket <no-reply@tiket.local>"

    # Push in the FCM HTTP v1 format. An empty FCM_ENDPOINT turns push off (no push deliveries).
    fcm_endpoint: str = ""
    fcm_project_id: str = "ticketing-dev"
    fcm_access_token: SecretStr = SecretStr(DEV_FCM_ACCESS_TOKEN)
    fcm_timeout_seconds: float = 10.0

    default_language: Literal["id", "en"] = "id"

    # Where the receipt PDF attached to the buyer's order e-mail comes from (issue 16), fetched
    # with a service token signed with SERVICE_TOKEN_SECRET (ticket-service's own value).
    ticket_service_url: str = "http://127.0.0.1:8001"
    receipt_timeout_seconds: float = 10.0

    # Deliveries: claimed in batches, retried with exponential backoff up to a number of attempts.
    delivery_poll_seconds: float = 1.0
    delivery_batch_size: int = 50
    delivery_max_attempts: int = 6
    delivery_retry_base_seconds: float = 5.0
    delivery_retry_max_seconds: float = 900.0
    delivery_lease_seconds: float = 120.0

    # The live stream: a Redis stream per user, trimmed to about STREAM_MAXLEN entries.
    stream_heartbeat_seconds: float = 15.0
    stream_maxlen: int = 200
    stream_ttl_seconds: int = 7 * 24 * 3600
    stream_retry_ms: int = 3000

    def development_secrets(self) -> dict[str, str]:
        secrets = super().development_secrets()
        if self.fcm_endpoint:  # the FCM token matters only when push is on
            secrets["fcm_access_token"] = DEV_FCM_ACCESS_TOKEN
        return secrets
