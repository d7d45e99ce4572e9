"""The one table of what the local stack runs: ports, databases, vhost, redis db, run dir, env."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from servicekit.free_ports import free_port as free_port
from servicekit.settings import DEV_JWT_SECRET, DEV_SERVICE_TOKEN_SECRET
from servicekit.testing import run_vhost_name

DEV_JWT_ISSUER = "ticketing-dev"
DEV_JWT_AUDIENCE = "ticketing-api"
DEV_MIDTRANS_SERVER_KEY = "SB-Mid-server-local-dev-key"
DEV_MIDTRANS_CLIENT_KEY = "SB-Mid-client-local-dev-key"

SERVICES = ("ticket-service", "payment-service", "notification-gateway")
TOOLS = ("midtrans-sandbox", "mail-sink")
GATEWAY = "gateway"

_ROOT_MARKER = Path("deploy") / "gateway" / "templates"


def find_repo_root() -> Path:
    """$DEVSTACK_ROOT, else the first parent of this file (or of the cwd) holding deploy/gateway."""
    override = os.environ.get("DEVSTACK_ROOT")
    if override:
        return Path(override).resolve()
    for start in (Path(__file__).resolve(), Path.cwd().resolve()):
        for candidate in (start, *start.parents):
            if (candidate / _ROOT_MARKER).is_dir():
                return candidate
    raise RuntimeError(
        "cannot find the repository root (with deploy/gateway/templates); set DEVSTACK_ROOT"
    )


@dataclass(frozen=True)
class ProcessSpec:
    """One process of the stack and how to tell that it is ready."""

    name: str
    module: str | None  # import package that must exist for the process to run; None for nginx
    argv: tuple[str, ...]
    port: int
    ready_path: str
    env: dict[str, str] = field(default_factory=dict)
    database: str | None = None
    needs: tuple[str, ...] = ()  # machine dependencies: postgres, rabbitmq, redis, nginx

    def ready_url(self, host: str) -> str:
        return f"http://{host}:{self.port}{self.ready_path}"


@dataclass(frozen=True)
class StackConfig:
    """Everything that differs between the developer's stack and an isolated (e2e) copy of it."""

    repo_root: Path
    run_dir: Path
    host: str = "127.0.0.1"
    gateway_port: int = 8080
    ticket_port: int = 8001
    payment_port: int = 8002
    notification_port: int = 8003
    sandbox_port: int = 8090
    mail_http_port: int = 8025
    mail_smtp_port: int = 1025
    postgres_host: str = "127.0.0.1"
    postgres_port: int = 5432
    postgres_user: str = "postgres"
    db_suffix: str = ""
    rabbitmq_host: str = "127.0.0.1"
    rabbitmq_port: int = 5672
    rabbitmq_user: str = "guest"
    rabbitmq_password: str = "guest"  # noqa: S105 - RabbitMQ's local default
    vhost: str = "/"
    redis_host: str = "127.0.0.1"
    redis_port: int = 6379
    redis_db: int = 0
    app_env: str = "development"
    jwt_secret: str = DEV_JWT_SECRET
    jwt_issuer: str = DEV_JWT_ISSUER
    jwt_audience: str = DEV_JWT_AUDIENCE
    service_token_secret: str = DEV_SERVICE_TOKEN_SECRET
    """Signs and checks the services' calls to each other's /internal/* (one value for all)."""
    midtrans_server_key: str = DEV_MIDTRANS_SERVER_KEY
    midtrans_client_key: str = DEV_MIDTRANS_CLIENT_KEY
    sandbox_retry_scale: float | None = None
    fresh_state: bool = False  # drop and recreate databases, vhost and redis db before starting
    ready_timeout: float = 60.0
    web_concurrency: int = field(default_factory=lambda: os.cpu_count() or 1)
    """Worker processes per service (WEB_CONCURRENCY): one per core for `make run`; one in an
    isolated copy (e2e), whose tests read a service's /metrics, which is per worker process."""
    python: str = field(default_factory=lambda: _default_python())

    @classmethod
    def development(cls, run_dir: Path | None = None) -> StackConfig:
        root = find_repo_root()
        return cls(repo_root=root, run_dir=run_dir or root / ".run")

    @classmethod
    def isolated(cls, run_dir: Path | None = None, *, label: str = "e2e") -> StackConfig:
        """A second copy of the stack: free ports, `*_<label>` databases, own vhost and redis db.

        TEST_NAMESPACE, when set, joins the label, so two test runs on one machine keep apart.
        """
        namespace = os.environ.get("TEST_NAMESPACE", "")
        label = f"{label}_{namespace}" if namespace else label
        root = find_repo_root()
        ports = _distinct_free_ports(8)
        return cls(
            repo_root=root,
            run_dir=run_dir or Path(tempfile.mkdtemp(prefix=f"devstack-{label}-")),
            gateway_port=ports[0],
            ticket_port=ports[1],
            payment_port=ports[2],
            notification_port=ports[3],
            sandbox_port=ports[4],
            mail_http_port=ports[5],
            mail_smtp_port=ports[6],
            db_suffix=f"_{label}",
            vhost=run_vhost_name(label),
            redis_db=5,
            sandbox_retry_scale=0.01,
            fresh_state=True,
            web_concurrency=1,
        )

    def with_changes(self, **changes: object) -> StackConfig:
        return replace(self, **changes)  # type: ignore[arg-type]

    # --- derived values -------------------------------------------------------------------------

    @property
    def logs_dir(self) -> Path:
        return self.run_dir / "logs"

    @property
    def pids_dir(self) -> Path:
        return self.run_dir / "pids"

    @property
    def nginx_dir(self) -> Path:
        return self.run_dir / "nginx"

    @property
    def gateway_url(self) -> str:
        return f"http://{self.host}:{self.gateway_port}"

    @property
    def sandbox_url(self) -> str:
        return f"http://{self.host}:{self.sandbox_port}"

    @property
    def mail_url(self) -> str:
        return f"http://{self.host}:{self.mail_http_port}"

    def database_name(self, service: str) -> str:
        return service.replace("-", "_") + self.db_suffix

    def database_url(self, database: str) -> str:
        return f"postgresql://{self.postgres_user}@{self.postgres_host}:{self.postgres_port}/{database}"

    @property
    def amqp_url(self) -> str:
        vhost = "%2F" if self.vhost == "/" else self.vhost
        return f"amqp://{self.rabbitmq_user}:{self.rabbitmq_password}@{self.rabbitmq_host}:{self.rabbitmq_port}/{vhost}"

    @property
    def redis_url(self) -> str:
        return f"redis://{self.redis_host}:{self.redis_port}/{self.redis_db}"

    @property
    def gateway_upstreams(self) -> dict[str, str]:
        return {
            "ticket-service": f"{self.host}:{self.ticket_port}",
            "payment-service": f"{self.host}:{self.payment_port}",
            "notification-gateway": f"{self.host}:{self.notification_port}",
        }

    def _common_env(self, port: int, service: str) -> dict[str, str]:
        return {
            "APP_ENV": self.app_env,
            "HTTP_HOST": self.host,
            "HTTP_PORT": str(port),
            "DATABASE_URL": self.database_url(self.database_name(service)),
            "AMQP_URL": self.amqp_url,
            "REDIS_URL": self.redis_url,
            "JWT_SECRET": self.jwt_secret,
            "JWT_ISSUER": self.jwt_issuer,
            "JWT_AUDIENCE": self.jwt_audience,
            "SERVICE_TOKEN_SECRET": self.service_token_secret,
            "WEB_CONCURRENCY": str(self.web_concurrency),
        }

    def processes(self) -> list[ProcessSpec]:
        """Every process of the stack in start order (the gateway last)."""
        py = self.python
        notification_url = f"{self.gateway_url}/api/payment/notification"
        service_needs = ("postgres", "rabbitmq", "redis")
        sandbox_env = {
            "MIDTRANS_SERVER_KEY": self.midtrans_server_key,
            "MIDTRANS_CLIENT_KEY": self.midtrans_client_key,
            "MIDTRANS_NOTIFICATION_URL": notification_url,
            "SANDBOX_PUBLIC_URL": self.sandbox_url,
            "SANDBOX_HOST": self.host,
            "SANDBOX_PORT": str(self.sandbox_port),
        }
        if self.sandbox_retry_scale is not None:
            sandbox_env["SANDBOX_RETRY_SCALE"] = str(self.sandbox_retry_scale)
        return [
            ProcessSpec(
                name="midtrans-sandbox",
                module="midtrans_sandbox",
                argv=(py, "-m", "midtrans_sandbox", "--port", str(self.sandbox_port)),
                port=self.sandbox_port,
                ready_path="/_sandbox/health",
                env=sandbox_env,
            ),
            ProcessSpec(
                name="mail-sink",
                module="mail_sink",
                argv=(py, "-m", "mail_sink"),
                port=self.mail_http_port,
                ready_path="/healthz",
                env={
                    "MAIL_SINK_HOST": self.host,
                    "MAIL_SINK_HTTP_PORT": str(self.mail_http_port),
                    "MAIL_SINK_SMTP_PORT": str(self.mail_smtp_port),
                },
            ),
            ProcessSpec(
                name="payment-service",
                module="payment_service",
                argv=(py, "-m", "payment_service"),
                port=self.payment_port,
                ready_path="/readyz",
                env={
                    **self._common_env(self.payment_port, "payment-service"),
                    "MIDTRANS_SERVER_KEY": self.midtrans_server_key,
                    "MIDTRANS_CLIENT_KEY": self.midtrans_client_key,
                    "MIDTRANS_SNAP_BASE_URL": f"{self.sandbox_url}/snap/v1",
                    "MIDTRANS_CORE_BASE_URL": self.sandbox_url,
                    "MIDTRANS_NOTIFICATION_URL": notification_url,
                },
                database=self.database_name("payment-service"),
                needs=service_needs,
            ),
            ProcessSpec(
                name="ticket-service",
                module="ticket_service",
                argv=(py, "-m", "ticket_service"),
                port=self.ticket_port,
                ready_path="/readyz",
                env={
                    **self._common_env(self.ticket_port, "ticket-service"),
                    "PAYMENT_SERVICE_URL": f"http://{self.host}:{self.payment_port}",
                },
                database=self.database_name("ticket-service"),
                needs=service_needs,
            ),
            ProcessSpec(
                name="notification-gateway",
                module="notification_gateway",
                argv=(py, "-m", "notification_gateway"),
                port=self.notification_port,
                ready_path="/readyz",
                env={
                    **self._common_env(self.notification_port, "notification-gateway"),
                    "SMTP_HOST": self.host,
                    "SMTP_PORT": str(self.mail_smtp_port),
                    # The receipt PDFs for the buyers' e-mails, straight from ticket-service.
                    "TICKET_SERVICE_URL": f"http://{self.host}:{self.ticket_port}",
                },
                database=self.database_name("notification-gateway"),
                needs=service_needs,
            ),
            ProcessSpec(
                name=GATEWAY,
                module=None,
                argv=(
                    "nginx",
                    "-c",
                    str(self.nginx_dir / "nginx.conf"),
                    "-p",
                    str(self.nginx_dir),
                    "-e",
                    "stderr",
                    "-g",
                    "daemon off;",
                ),
                port=self.gateway_port,
                ready_path="/_gateway/health",
                needs=("nginx",),
            ),
        ]

    def process(self, name: str) -> ProcessSpec:
        for spec in self.processes():
            if spec.name == name:
                return spec
        raise KeyError(
            f"unknown process {name!r}; known: {', '.join(p.name for p in self.processes())}"
        )


def _default_python() -> str:
    import sys

    return sys.executable


def _distinct_free_ports(count: int) -> list[int]:
    return [free_port() for _ in range(count)]
