"""deploy/grafana/ticketing-dashboard.json: valid, and every metric a panel asks for is exported.

The exported names are read from prometheus-client's registry after importing every module that
defines metrics (servicekit's and each service's), so a renamed or removed metric fails here.
"""

from __future__ import annotations

import importlib
import json
import re
from typing import Any

from devstack.config import StackConfig
from prometheus_client import REGISTRY

DASHBOARD = StackConfig.development().repo_root / "deploy" / "grafana" / "ticketing-dashboard.json"
METRIC_MODULES = (
    "servicekit.metrics",
    "ticket_service.adapters.metrics",
    "payment_service.adapters.metrics",
    "notification_gateway.adapters.metrics",
    "midtrans_sandbox.metrics",
)
# What issue 11 asks the dashboard to show, by the metric that shows it.
REQUIRED = {
    "http_requests_total": "request rate and errors per route",
    "http_request_duration_seconds_bucket": "latency per route",
    "outbox_backlog_events": "outbox backlog",
    "outbox_oldest_unsent_age_seconds": "age of the oldest unsent event",
    "consumer_queue_messages_ready": "consumer lag per queue",
    "consumer_handling_seconds_bucket": "handling time per queue",
    "consumer_dead_letter_messages": "messages dead-lettered",
    "ticket_holds": "holds",
    "background_job_items_total": "sweeps",
    "payment_reconciler_findings": "reconciler findings",
    "payment_refunds": "refunds by state",
    "midtrans_api_requests_total": "Midtrans calls by outcome",
    "midtrans_api_request_duration_seconds_bucket": "Midtrans latency",
    "notification_delivery_attempts_total": "deliveries by channel and outcome",
}
_FUNCTION_OR_KEYWORD = {"by", "without", "on", "ignoring", "group_left", "group_right", "and",
                        "or", "unless", "offset", "bool"}  # fmt: skip


def exported_names() -> set[str]:
    for module in METRIC_MODULES:
        importlib.import_module(module)
    names: set[str] = set()
    for family in REGISTRY.collect():
        match family.type:
            case "counter":
                names.add(f"{family.name}_total")
            case "histogram":
                names.update(f"{family.name}{suffix}" for suffix in ("_bucket", "_count", "_sum"))
            case _:
                names.add(family.name)
    return names


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (not functions, labels or keywords)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}", " ", expr)
    expr = re.sub(r"\[[^\]]*\]", " ", expr)
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    found = re.findall(r"(?<![\w.])([A-Za-z_:][A-Za-z0-9_:]*)\s*(\(?)", expr)
    return {name for name, call in found if not call and name not in _FUNCTION_OR_KEYWORD}


def panels() -> list[dict[str, Any]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [p for p in dashboard["panels"] if p["type"] != "row"]


def test_metric_names_are_found_in_promql() -> None:
    expr = 'histogram_quantile(0.95, sum by (queue, le) (rate(a_seconds_bucket{q="x"}[5m])))'
    assert metric_names(expr) == {"a_seconds_bucket"}
    assert metric_names("max by (state) (ticket_holds) / ignoring(x) b_total") == {
        "ticket_holds",
        "b_total",
    }


def test_the_dashboard_is_grafana_json_with_a_prometheus_datasource() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in panels():
        assert panel["datasource"]["uid"] == "${datasource}"
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"])
        assert panel["targets"], panel["title"]


def test_every_metric_a_panel_queries_is_exported() -> None:
    exported = exported_names()
    for panel in panels():
        for target in panel["targets"]:
            names = metric_names(target["expr"])
            assert names, target["expr"]
            assert names <= exported, f"{panel['title']}: {names - exported} is not exported"


def test_the_dashboard_shows_everything_the_issue_lists() -> None:
    shown = {
        name for panel in panels() for t in panel["targets"] for name in metric_names(t["expr"])
    }
    missing = {name: what for name, what in REQUIRED.items() if name not in shown}
    assert not missing
