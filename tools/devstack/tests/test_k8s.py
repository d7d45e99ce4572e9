"""Kubernetes manifests: a Deployment and Service per service, probes, settings by reference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from devstack.config import SERVICES, StackConfig
from devstack.manifests import configmap_path, render_gateway_configmap

ROOT = StackConfig.development().repo_root
K8S = ROOT / "deploy" / "k8s"
# Settings each service refuses to start with in production while they hold development defaults.
PRODUCTION_SECRETS = {
    "ticket-service": {"QR_SIGNING_KEYS", "SERVICE_TOKEN_SECRET"},
    "payment-service": {"MIDTRANS_SERVER_KEY", "SERVICE_TOKEN_SECRET"},
    "notification-gateway": {"FCM_ACCESS_TOKEN", "SERVICE_TOKEN_SECRET"},
}


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _all() -> dict[tuple[str, str], dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in K8S.glob("*.yaml"):
        for doc in _documents(path):
            if doc["kind"] == "Kustomization":
                continue
            found[(doc["kind"], doc["metadata"]["name"])] = doc
    return found


def test_kustomization_lists_existing_files() -> None:
    kustomization = _documents(K8S / "kustomization.yaml")[0]
    for resource in kustomization["resources"]:
        assert (K8S / resource).is_file(), resource


def test_each_service_has_a_deployment_and_service_with_probes() -> None:
    manifests = _all()
    for name in SERVICES:
        deployment = manifests[("Deployment", name)]
        service = manifests[("Service", name)]
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        port = container["ports"][0]["containerPort"]
        assert port == StackConfig.development().process(name).port
        assert service["spec"]["ports"][0]["port"] == port
        assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True


def test_settings_come_from_the_configmap_and_secret_keys_that_exist() -> None:
    manifests = _all()
    config_keys = set(manifests[("ConfigMap", "ticketing-config")]["data"])
    secret_keys = set(manifests[("Secret", "ticketing-secrets")]["stringData"])
    for name in SERVICES:
        container = manifests[("Deployment", name)]["spec"]["template"]["spec"]["containers"][0]
        names = set()
        for entry in container["env"]:
            names.add(entry["name"])
            source = entry.get("valueFrom", {})
            if "configMapKeyRef" in source:
                assert source["configMapKeyRef"]["key"] in config_keys
            if "secretKeyRef" in source:
                assert source["secretKeyRef"]["key"] in secret_keys
        expected = set(StackConfig.development().process(name).env) - {"MIDTRANS_CLIENT_KEY"}
        assert expected <= names, f"{name} lacks {expected - names}"
        secrets = {e["name"] for e in container["env"] if "secretKeyRef" in e.get("valueFrom", {})}
        assert {"JWT_SECRET", "DATABASE_URL", *PRODUCTION_SECRETS[name]} <= secrets


def test_gateway_configmap_is_the_gateway_template() -> None:
    assert configmap_path(ROOT).read_text() == render_gateway_configmap(ROOT), (
        "deploy/k8s/gateway-configmap.yaml is stale: run `.venv/bin/python -m devstack sync-k8s`"
    )
    configmap = _all()[("ConfigMap", "gateway-templates")]
    template = (ROOT / "deploy" / "gateway" / "templates" / "default.conf.template").read_text()
    assert configmap["data"]["default.conf.template"] == template
