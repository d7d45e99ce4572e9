"""requirements.lock pins every third-party requirement of the workspace, within its range.

A pyproject.toml or requirements-dev.txt that asks for something new without `make lock`
fails here, naming what to do, before anyone's fresh venv silently differs.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from devstack.config import StackConfig
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = StackConfig.development().repo_root
LOCK = ROOT / "requirements.lock"


def _projects() -> list[Path]:
    return sorted(
        p
        for pattern in ("libs/*", "services/*", "tools/*")
        for p in ROOT.glob(f"{pattern}/pyproject.toml")
    )


def _workspace_names() -> set[str]:
    return {canonicalize_name(tomllib.loads(p.read_text())["project"]["name"]) for p in _projects()}


def _declared() -> list[tuple[str, Requirement]]:
    declared = []
    for project in _projects():
        for line in tomllib.loads(project.read_text())["project"].get("dependencies", []):
            declared.append((str(project.relative_to(ROOT)), Requirement(line)))
    for line in (ROOT / "requirements-dev.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            declared.append(("requirements-dev.txt", Requirement(line)))
    return declared


def _pins() -> dict[str, Version]:
    pins = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^ ;\\]+)", LOCK.read_text(), re.M)
    return {canonicalize_name(name): Version(version) for name, version in pins}


def test_every_requirement_is_locked_at_a_version_it_allows() -> None:
    pins, ours = _pins(), _workspace_names()
    problems = []
    for source, requirement in _declared():
        name = canonicalize_name(requirement.name)
        if name in ours:
            continue
        if name not in pins:
            problems.append(f"{source}: {requirement} is not in the lock")
        elif not requirement.specifier.contains(pins[name], prereleases=True):
            problems.append(f"{source}: {requirement} but the lock has {pins[name]}")
    assert problems == [], "run `make lock` and commit requirements.lock:\n" + "\n".join(problems)


def test_every_locked_package_has_hashes_and_the_workspace_itself_is_not_locked() -> None:
    text = LOCK.read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    assert blocks and all("--hash=sha256:" in block for block in blocks if "==" in block)
    assert not _workspace_names() & set(_pins())
    assert "-e " not in text


def test_the_lock_pins_a_redis_client_the_code_is_typed_for() -> None:
    # The code's types (mypy strict, `make lint`) are written for redis-py 8's own annotations.
    assert _pins()["redis"].major == 8


def test_this_venv_holds_exactly_the_locked_versions() -> None:
    """`make install` installs the lock as it is: what runs these tests is what is locked."""
    pins = re.findall(
        r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^ ;\\]+)(?: ; ([^\\]+))?", LOCK.read_text(), re.M
    )
    differences = []
    for name, version, marker in pins:
        if marker and not Marker(marker.strip()).evaluate():
            continue
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            differences.append(f"{name}: locked {version}, not installed")
            continue
        if Version(installed) != Version(version):
            differences.append(f"{name}: locked {version}, installed {installed}")
    assert differences == [], "run `make install`:\n" + "\n".join(differences)
