"""deploy/k8s against the Kubernetes API schemas, as files and as `kustomize build` renders them.

The validator is kubernetes-validate (the API's OpenAPI schemas as JSON Schema, strict: an
unknown field is an error). The build runs the real kustomize (`kustomize build`, or the one in
`kubectl kustomize`); where neither is installed it uses devstack's renderer of the two fields
the kustomization uses, which this test holds to kustomize's output wherever kustomize exists.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from devstack.config import SERVICES, StackConfig
from devstack.manifests import (
    UnsupportedKustomization,
    kustomize_build,
    kustomize_command,
    render_kustomization,
)
from servicekit.metrics import QUEUE_DEPTH
from ticketing_contracts import CONSUMER_QUEUES

ROOT = StackConfig.development().repo_root
K8S = ROOT / "deploy" / "k8s"
# The oldest Kubernetes still widely run, and the newest the validator knows.
VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
QUEUE_OF = {binding.queue.split(".")[0]: binding.queue for binding in CONSUMER_QUEUES}
# Peak RSS in MiB measured under the whole-system load (deploy/README.md, Sizing).
MEASURED_PEAK_RSS_MIB = {"ticket-service": 94, "payment-service": 84, "notification-gateway": 93}


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _manifest_files() -> list[Path]:
    return sorted(p for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml")


def _key(doc: dict[str, Any]) -> tuple[str, str, str, str]:
    meta = doc["metadata"]
    return (doc["apiVersion"], doc["kind"], meta.get("namespace", ""), meta["name"])


@functools.cache
def _built() -> dict[tuple[str, str, str, str], dict[str, Any]]:
    documents = kustomize_build(K8S) if kustomize_command() else render_kustomization(K8S)
    return {_key(doc): doc for doc in documents}


def _of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {key[3]: doc for key, doc in _built().items() if key[1] == kind}


@pytest.mark.parametrize("path", _manifest_files(), ids=lambda p: str(p.relative_to(K8S)))
@pytest.mark.parametrize("version", VERSIONS)
def test_every_manifest_file_is_valid_for_the_kubernetes_api(path: Path, version: str) -> None:
    for document in _documents(path):
        kubernetes_validate.validate(document, version, strict=True)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_kustomize_build_output_is_valid_for_the_kubernetes_api(version: str) -> None:
    built = _built()
    assert len(built) >= 25
    for document in built.values():
        kubernetes_validate.validate(document, version, strict=True)
        if document["kind"] != "Namespace":
            assert document["metadata"]["namespace"] == "ticketing", _key(document)


def test_the_renderer_is_what_kustomize_builds() -> None:
    rendered = {_key(doc): doc for doc in render_kustomization(K8S)}
    if kustomize_command() is not None:
        assert rendered == {_key(doc): doc for doc in kustomize_build(K8S)}
    # Every file but the adapter's rule (another namespace's) is part of the build.
    in_files = {
        _key(doc)
        for path in _manifest_files()
        if "monitoring" not in path.parts and path.name != "secret.example.yaml"
        for doc in _documents(path)
    }
    assert set(rendered) == in_files


def test_the_renderer_refuses_what_it_does_not_implement(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: []\ncommonLabels: {a: b}\n")
    with pytest.raises(UnsupportedKustomization, match="commonLabels"):
        render_kustomization(tmp_path)


def test_each_service_scales_on_cpu_and_its_queue_lag() -> None:
    hpas = _of_kind("HorizontalPodAutoscaler")
    for name in (*SERVICES, "gateway"):
        spec = hpas[name]["spec"]
        assert spec["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
        }
        assert spec["minReplicas"] >= 2 and spec["maxReplicas"] > spec["minReplicas"]
        kinds = {m["type"]: m for m in spec["metrics"]}
        assert kinds["Resource"]["resource"]["name"] == "cpu"
        if name == "gateway":
            continue
        external = kinds["External"]["external"]
        assert external["metric"]["name"] == "ticketing_queue_messages_ready"
        assert external["metric"]["selector"]["matchLabels"] == {"queue": QUEUE_OF[name]}
        assert external["target"]["type"] == "AverageValue"


def test_the_adapter_rule_serves_the_hpas_metric_from_what_the_services_export() -> None:
    [configmap] = _documents(K8S / "monitoring" / "prometheus-adapter-rules.yaml")
    [rule] = yaml.safe_load(configmap["data"]["config.yaml"])["externalRules"]
    assert rule["name"]["as"] == "ticketing_queue_messages_ready"
    assert rule["seriesQuery"].startswith(QUEUE_DEPTH._name + "{")
    assert rule["metricsQuery"].startswith("max by (queue)")


def test_the_autoscaler_alone_sets_the_replica_count() -> None:
    hpas = _of_kind("HorizontalPodAutoscaler")
    for name, deployment in _of_kind("Deployment").items():
        assert "replicas" not in deployment["spec"], f"{name}: apply would undo the HPA"
        assert hpas[name]["spec"]["scaleTargetRef"]["name"] == name


def test_the_scrape_job_keeps_annotated_pods_and_the_labels_the_rule_uses() -> None:
    [configmap] = _documents(K8S / "monitoring" / "prometheus-scrape-config.yaml")
    [job] = yaml.safe_load(configmap["data"]["ticketing.yaml"])["scrape_configs"]
    assert job["kubernetes_sd_configs"] == [{"role": "pod", "namespaces": {"names": ["ticketing"]}}]
    targets = {r.get("target_label") for r in job["relabel_configs"]}
    assert {"namespace", "pod", "__address__", "__metrics_path__"} <= targets
    for deployment in _of_kind("Deployment").values():
        if deployment["metadata"]["name"] == "gateway":
            continue
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"


def test_a_disruption_budget_keeps_a_pod_of_each_while_the_hpa_keeps_two() -> None:
    budgets, hpas = _of_kind("PodDisruptionBudget"), _of_kind("HorizontalPodAutoscaler")
    deployments = _of_kind("Deployment")
    for name, deployment in deployments.items():
        budget = budgets[name]["spec"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert budget["selector"]["matchLabels"].items() <= labels.items()
        assert 1 <= budget["minAvailable"] < hpas[name]["spec"]["minReplicas"]


def _mebibytes(quantity: str) -> int:
    number, unit = re.fullmatch(r"(\d+)(Mi|Gi)", quantity).groups()  # type: ignore[union-attr]
    return int(number) * (1024 if unit == "Gi" else 1)


def test_memory_requests_and_limits_come_from_the_measured_rss() -> None:
    for name, peak in MEASURED_PEAK_RSS_MIB.items():
        container = _of_kind("Deployment")[name]["spec"]["template"]["spec"]["containers"][0]
        resources = container["resources"]
        request = _mebibytes(resources["requests"]["memory"])
        limit = _mebibytes(resources["limits"]["memory"])
        assert peak * 1.5 <= request < peak * 2, name
        assert peak * 3 <= limit <= peak * 5, name
        assert "cpu" in resources["requests"]  # the HPA's utilisation is against it


def test_pods_drain_before_they_stop_and_are_scraped_on_their_port() -> None:
    config = _of_kind("ConfigMap")["ticketing-config"]["data"]
    drain, grace = float(config["SHUTDOWN_DRAIN_SECONDS"]), float(config["SHUTDOWN_GRACE_SECONDS"])
    assert drain >= 3
    for name in SERVICES:
        template = _of_kind("Deployment")[name]["spec"]["template"]
        container = template["spec"]["containers"][0]
        env = {e["name"] for e in container["env"]}
        assert {"SHUTDOWN_DRAIN_SECONDS", "SHUTDOWN_GRACE_SECONDS", "MIGRATE_ON_START"} <= env
        # Drain, then in-flight requests, then jobs and the relay's last pass, each up to grace.
        assert template["spec"]["terminationGracePeriodSeconds"] >= drain + 3 * grace
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        annotations = template["metadata"]["annotations"]
        assert annotations["prometheus.io/port"] == str(container["ports"][0]["containerPort"])
        assert annotations["prometheus.io/path"] == "/metrics"


def test_a_migration_job_per_service_uses_its_database_and_package() -> None:
    jobs = _of_kind("Job")
    assert _of_kind("ConfigMap")["ticketing-config"]["data"]["MIGRATE_ON_START"] == "false"
    for name in SERVICES:
        job = jobs[f"{name}-migrate"]["spec"]["template"]["spec"]
        container = job["containers"][0]
        assert container["command"] == [
            "python",
            "-m",
            "servicekit.migrate",
            name.replace("-", "_"),
        ]
        deployment = _of_kind("Deployment")[name]["spec"]["template"]["spec"]["containers"][0]
        assert container["image"] == deployment["image"]

        def database_key(c: dict[str, Any]) -> str:
            [entry] = [e for e in c["env"] if e["name"] == "DATABASE_URL"]
            return str(entry["valueFrom"]["secretKeyRef"]["key"])

        assert database_key(container) == database_key(deployment)
        assert job["restartPolicy"] in {"OnFailure", "Never"}


def _selects(policy: dict[str, Any], labels: dict[str, str]) -> bool:
    wanted = policy["spec"]["podSelector"].get("matchLabels", {})
    return bool(wanted.items() <= labels.items())


def test_only_the_gateway_is_open_and_services_take_the_gateway_and_prometheus() -> None:
    policies = _of_kind("NetworkPolicy")
    assert policies["default-deny-ingress"]["spec"] == {
        "podSelector": {},
        "policyTypes": ["Ingress"],
    }
    gateway = {"app.kubernetes.io/name": "gateway"}
    prometheus = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
    }
    allowed = {
        "ticket-service": [
            {"podSelector": {"matchLabels": gateway}},
            {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "notification-gateway"}}},
            prometheus,
        ],
        "notification-gateway": [{"podSelector": {"matchLabels": gateway}}, prometheus],
        "payment-service": [
            {"podSelector": {"matchLabels": gateway}},
            {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "ticket-service"}}},
            prometheus,
        ],
    }
    for name, peers in allowed.items():
        labels = _of_kind("Deployment")[name]["spec"]["template"]["metadata"]["labels"]
        port = _of_kind("Deployment")[name]["spec"]["template"]["spec"]["containers"][0]["ports"][0]
        sources: list[dict[str, Any]] = []
        for policy in policies.values():
            if not _selects(policy, labels):
                continue
            for rule in policy["spec"].get("ingress", []):
                assert "from" in rule, f"{policy['metadata']['name']} lets anyone reach {name}"
                assert {"port": port["containerPort"], "protocol": "TCP"} in rule["ports"]
                sources.extend(rule["from"])
        assert sorted(map(str, sources)) == sorted(map(str, peers)), name
    open_to_all = [
        p["metadata"]["name"]
        for p in policies.values()
        if any("from" not in rule for rule in p["spec"].get("ingress", []))
    ]
    assert open_to_all == ["gateway-from-anywhere"]
    assert policies["gateway-from-anywhere"]["spec"]["podSelector"]["matchLabels"] == gateway
