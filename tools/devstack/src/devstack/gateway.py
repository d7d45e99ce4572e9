"""Render the nginx gateway config from deploy/gateway for a StackConfig; check it with nginx -t."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from devstack.config import StackConfig

_PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
_TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


class TemplateError(ValueError):
    """A template names a placeholder nobody gave a value for."""


def render_template(text: str, values: Mapping[str, str]) -> str:
    """Fill ${UPPER_CASE} placeholders like the nginx image's envsubst; nginx's $vars stay."""
    missing = sorted({name for name in _PLACEHOLDER.findall(text) if name not in values})
    if missing:
        raise TemplateError(f"no value for {', '.join(missing)}")
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def server_template_path(repo_root: Path) -> Path:
    return repo_root / "deploy" / "gateway" / "templates" / "default.conf.template"


def main_template_path(repo_root: Path) -> Path:
    return repo_root / "deploy" / "gateway" / "nginx.conf.template"


def server_values(config: StackConfig) -> dict[str, str]:
    upstreams = config.gateway_upstreams
    return {
        "GATEWAY_LISTEN": f"{config.host}:{config.gateway_port}",
        "TICKET_SERVICE_ADDR": upstreams["ticket-service"],
        "PAYMENT_SERVICE_ADDR": upstreams["payment-service"],
        "NOTIFICATION_GATEWAY_ADDR": upstreams["notification-gateway"],
    }


def render_gateway(config: StackConfig) -> Path:
    """Write <run dir>/nginx/{nginx.conf,gateway.conf} and temp folders; return nginx.conf."""
    prefix = config.nginx_dir
    for name in _TEMP_DIRS:
        (prefix / "tmp" / name).mkdir(parents=True, exist_ok=True)
    (prefix / "logs").mkdir(
        parents=True, exist_ok=True
    )  # nginx -p wants it even when logging to stderr
    server_conf = prefix / "gateway.conf"
    server_conf.write_text(
        render_template(server_template_path(config.repo_root).read_text(), server_values(config))
    )
    main_conf = prefix / "nginx.conf"
    main_conf.write_text(
        render_template(
            main_template_path(config.repo_root).read_text(),
            {
                # Workers of a root master run as nobody, who cannot enter a private run dir.
                "NGINX_USER_DIRECTIVE": "user root;" if os.geteuid() == 0 else "",
                "NGINX_PREFIX": str(prefix),
                "GATEWAY_SERVER_CONF": str(server_conf),
            },
        )
    )
    return main_conf


def check_config(config: StackConfig) -> subprocess.CompletedProcess[str]:
    """Run `nginx -t` on the rendered config; raise with nginx's own words if it is refused."""
    nginx = shutil.which("nginx")
    if nginx is None:
        raise FileNotFoundError("nginx is not installed: apt-get install -y nginx-light")
    main_conf = render_gateway(config)
    result = subprocess.run(  # noqa: S603 - our own arguments
        [nginx, "-t", "-q", "-c", str(main_conf), "-p", str(config.nginx_dir), "-e", "stderr"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"nginx -t refused {main_conf}:\n{result.stderr}")
    return result
