"""docker-compose.yml is valid Compose, names only what exists, and matches the devstack table."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path
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


def _built_services() -> dict[str, dict[str, Any]]:
    return {name: s for name, s in _compose()["services"].items() if "build" in s}


def test_there_is_one_dockerfile_and_every_python_process_is_built_from_it() -> None:
    assert sorted(_built_services()) == sorted([*SERVICES, *TOOLS])
    for name, service in _built_services().items():
        assert service["build"]["context"] == ".", name
        assert service["build"]["dockerfile"] == "Dockerfile", name
    copies = [p for p in ROOT.glob("*/*/Dockerfile*") if ".venv" not in p.parts]
    assert copies == [], "the per-package Dockerfiles are gone"


@pytest.mark.parametrize("name", [*SERVICES, *TOOLS])
def test_build_args_name_a_package_its_module_and_the_healthcheck_compose_waits_on(
    name: str,
) -> None:
    service = _compose()["services"][name]
    args = service["build"]["args"]
    folder = ROOT / args["PACKAGE"]
    assert (folder / "pyproject.toml").is_file()
    assert (folder / "src" / args["MODULE"] / "__main__.py").is_file(), "python -m MODULE runs"
    assert args["HEALTH_URL"] in " ".join(service["healthcheck"]["test"])
    published = {mapping.rsplit(":", 1)[-1] for mapping in service["ports"]}
    assert published <= set(str(args["PORTS"]).split())


def test_dockerfile_is_slim_python_non_root_and_installs_from_the_lock() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in text
    assert "USER app" in text
    assert "COPY requirements.lock" in text
    assert "--constraint requirements.lock" in text
    assert "./libs/contracts ./libs/servicekit ./${PACKAGE}" in text
    assert 'CMD exec python -m "$APP_MODULE"' in text
    for arg in ("PACKAGE", "MODULE", "PORTS", "HEALTH_URL"):
        assert f"ARG {arg}" in text


def test_the_dockerfiles_uv_requirement_is_the_locked_one_with_its_hashes() -> None:
    command = next(
        line.split("RUN ", 1)[1].split(" > uv.txt")[0]
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if "uv.txt" in line and line.startswith("RUN ")
    )
    extracted = subprocess.run(
        ["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert extracted[0].startswith("uv==")
    assert len(extracted) > 2 and all("--hash=sha256:" in line for line in extracted[1:-1])
    assert not extracted[-1].rstrip().endswith("\\")


@pytest.mark.parametrize("name", [*SERVICES, *TOOLS])
def test_the_images_install_resolves_to_locked_versions_only(name: str, tmp_path: Path) -> None:
    """The Dockerfile's `uv pip install --constraint requirements.lock ...`, as a dry run."""
    folder = _compose()["services"][name]["build"]["args"]["PACKAGE"]
    uv = Path(sys.executable).parent / "uv"
    subprocess.run([uv, "venv", "-q", tmp_path / "venv"], check=True, capture_output=True)
    result = subprocess.run(
        [
            uv,
            "pip",
            "install",
            "--dry-run",
            "--python",
            tmp_path / "venv" / "bin" / "python",
            "--constraint",
            "requirements.lock",
            "./libs/contracts",
            "./libs/servicekit",
            f"./{folder}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    locked = set(re.findall(r"^([a-z0-9][a-z0-9._-]*==[^ ;\\]+)", _lock_text(), re.MULTILINE))
    planned = re.findall(r"^ \+ ([a-z0-9][a-z0-9._-]*==\S+)$", result.stderr, re.MULTILINE)
    assert planned, result.stderr
    third_party = [p for p in planned if "file://" not in p and "@" not in p]
    assert [p for p in third_party if p not in locked] == []


def _lock_text() -> str:
    return (ROOT / "requirements.lock").read_text()
