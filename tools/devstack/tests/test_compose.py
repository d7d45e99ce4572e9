"""docker-compose.yml is valid Compose, names only what exists, and matches the devstack table."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema
import pytest
import yaml
from devstack.config import SERVICES, TOOLS, StackConfig

ROOT = StackConfig.development().repo_root


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def _compose_spec_schema() -> dict[str, Any]:
    # The Compose Specification's schema, as vendored by the check-jsonschema package.
    text = (
        resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    ).read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def test_compose_file_validates_against_the_compose_specification() -> None:
    schema = _compose_spec_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{list(error.path)}: {error.message}" for error in validator.iter_errors(_compose())]
    assert errors == []


def test_every_build_context_and_dockerfile_exists() -> None:
    for name, service in _compose()["services"].items():
        assert "build" in service or "image" in service, name
        if "build" in service:
            context = ROOT / service["build"]["context"]
            assert context.is_dir(), name
            assert (context / service["build"]["dockerfile"]).is_file(), name


def test_every_dependency_exists_and_is_waited_for_by_its_healthcheck() -> None:
    services = _compose()["services"]
    for name, service in services.items():
        for target, condition in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            assert condition == {"condition": "service_healthy"}, name
            assert "healthcheck" in services[target], f"{target} has no healthcheck"


def test_every_bind_mount_source_exists() -> None:
    for name, service in _compose()["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name}: {source}"


def test_every_devstack_process_is_a_compose_service_with_the_same_settings() -> None:
    services = _compose()["services"]
    assert {"postgres", "rabbitmq", "redis", "gateway", *SERVICES, *TOOLS} <= set(services)
    rabbit_image = services["rabbitmq"]["image"]
    assert "management" in rabbit_image
    for spec in StackConfig.development().processes():
        if spec.name == "gateway":
            continue
        env = services[spec.name]["environment"]
        missing = set(spec.env) - set(env)
        assert missing == set(), f"{spec.name} lacks {missing}"


@pytest.mark.parametrize(
    "folder", [f"services/{name}" for name in SERVICES] + [f"tools/{n}" for n in TOOLS]
)
def test_dockerfile_is_slim_python_non_root_with_the_shared_libraries(folder: str) -> None:
    text = (ROOT / folder / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in text
    assert "USER app" in text
    assert "./libs/contracts ./libs/servicekit" in text
    assert f"./{folder}" in text
