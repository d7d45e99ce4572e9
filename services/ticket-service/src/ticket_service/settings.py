"""ticket-service settings: the shared runtime's plus holds, QR keys, payment-service and limits."""

from decimal import Decimal
from typing import ClassVar, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from servicekit.settings import MIN_HS256_SECRET_BYTES, InsecureSettings, ServiceSettings

DEV_QR_SIGNING_KEYS = "dev1:dev-only-qr-signing-key-change-me"
DEV_QR_SECRET = DEV_QR_SIGNING_KEYS.partition(":")[2].encode()


class TicketSettings(ServiceSettings):
    uses_service_tokens: ClassVar[bool] = True  # it signs them for payment-service
    service_name: str = "ticket-service"
    http_port: int = 8001
    database_url: SecretStr = SecretStr("postgresql://postgres@127.0.0.1:5432/ticket_service")

    # "kid1:secret1,kid0:secret0": every key verifies the HMAC QRs (TKT1) of e-tickets issued
    # before issue 15; new QRs are signed with the event's Ed25519 key (check_in_keys).
    qr_signing_keys: SecretStr = SecretStr(DEV_QR_SIGNING_KEYS)

    # How long an unpaid purchase holds its seat; Midtrans gets the same deadline, and its
    # shortest expiry is one minute.
    hold_minutes: float = Field(default=15.0, ge=1.0)
    hold_sweep_interval_seconds: float = 5.0
    hold_sweep_batch_size: int = 200

    # The waiting list (issue 16): the offer maker's sweep, which also expires offers not
    # taken in time (a NOTIFY wakes it sooner).
    waitlist_sweep_interval_seconds: float = 5.0
    waitlist_batch_size: int = 100

    payment_service_url: str = "http://127.0.0.1:8002"
    payment_service_timeout_seconds: float = 10.0

    idempotency_key_hours: float = 24.0
    # An event found full is remembered this long by each process, so its next keyless buyers
    # are refused without a round trip (0: never); seats that come back end it at once.
    sold_out_memory_seconds: float = Field(default=1.0, ge=0, le=10)
    purchase_rate_limit: int = 5
    purchase_rate_window_seconds: int = 60

    # How long a transfer offer waits for its receiver (never past the host's deadline).
    transfer_offer_hours: float = Field(default=72.0, gt=0, le=24 * 30)

    # Receipts: the platform's fee on each paid order (charged to the host) and the PPN on that
    # fee, in percent. 11 % is the effective PPN on services since 2025 (12 % of an 11/12 base).
    platform_fee_percent: Decimal = Field(default=Decimal(5), ge=0, le=100)
    ppn_rate_percent: Decimal = Field(default=Decimal(11), ge=0, le=99)

    # The door (issue 15): failed check-ins or code lookups a host or scanner may make per
    # window before every attempt is refused with 429 (admissions never count).
    door_failures_allowed: int = Field(default=30, ge=1)
    door_failure_window_seconds: int = Field(default=300, ge=1)

    # Public path the app uses for a ticket's QR image (served by the door routes).
    qr_url_template: str = "/tickets/{ticket_id}/qr"

    @field_validator("qr_signing_keys")
    @classmethod
    def _keys_are_well_formed(cls, value: SecretStr) -> SecretStr:
        parse_signing_keys(value.get_secret_value())
        return value

    @property
    def signing_keys(self) -> list[tuple[str, bytes]]:
        return parse_signing_keys(self.qr_signing_keys.get_secret_value())

    def development_secrets(self) -> dict[str, str]:
        return {**super().development_secrets(), "qr_signing_keys": DEV_QR_SIGNING_KEYS}

    @model_validator(mode="after")
    def _refuse_weak_qr_keys_in_production(self) -> Self:
        """Every key verifies, so one development or short key anywhere in the list is a hole."""
        if not self.is_production:
            return self
        weak = [
            kid
            for kid, secret in self.signing_keys
            if secret == DEV_QR_SECRET or len(secret) < MIN_HS256_SECRET_BYTES
        ]
        if weak:
            raise InsecureSettings(
                "APP_ENV=production refuses development or short (under"
                f" {MIN_HS256_SECRET_BYTES} bytes) keys in qr_signing_keys: {', '.join(weak)}"
            )
        return self


def parse_signing_keys(raw: str) -> list[tuple[str, bytes]]:
    """`kid:secret,kid:secret` -> [(kid, secret bytes)], in order; the first one signs."""
    keys: list[tuple[str, bytes]] = []
    for part in raw.split(","):
        kid, sep, secret = part.strip().partition(":")
        if not sep or not kid or not secret:
            raise ValueError("QR_SIGNING_KEYS must look like 'kid1:secret1,kid0:secret0'")
        if "." in kid:
            raise ValueError("a QR key id cannot contain '.'")
        keys.append((kid, secret.encode()))
    if len({kid for kid, _ in keys}) != len(keys):
        raise ValueError("QR_SIGNING_KEYS has a key id twice")
    return keys
