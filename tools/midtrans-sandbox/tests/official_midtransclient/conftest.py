"""Runs the official midtransclient 1.4.2 Snap tests (tests/, vendored unchanged) on the sandbox.

The only things pointed elsewhere are the base URLs (ApiConfig's class attributes, as REFERENCE
§9 describes) and the server key: this sandbox is started with the key the official tests use,
so not a byte of them changes. See the sandbox README, "The official midtransclient tests".
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from midtransclient.config import ApiConfig

OFFICIAL_TESTS = Path(__file__).parent / "tests"


def official_server_key() -> str:
    spec = importlib.util.spec_from_file_location("official_config", OFFICIAL_TESTS / "config.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.USED_SERVER_KEY)


@pytest.fixture(scope="session", autouse=True)
def midtrans_is_the_sandbox(start_sandbox_with: Callable[..., str]) -> Iterator[str]:
    base = start_sandbox_with(server_key=official_server_key())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ApiConfig, "SNAP_SANDBOX_BASE_URL", f"{base}/snap/v1")
        patch.setattr(ApiConfig, "CORE_SANDBOX_BASE_URL", base)
        yield base
