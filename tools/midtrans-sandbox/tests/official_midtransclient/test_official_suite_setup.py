"""The vendored official tests are the published ones, and they really talk to the sandbox."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from urllib.parse import quote

import httpx

OFFICIAL_TESTS = Path(__file__).parent / "tests"
# sha256 of the files in midtransclient-1.4.2.tar.gz (PyPI sdist), tests/.
PUBLISHED = {
    "__init__.py": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "config.py": "c82dcf69ee73dbbbc552f947429c939c16158e6673c531514937325756981869",
    "context.py": "981a38f597bbddbf659af6d2562d784f3f065aee30fe6bc31dda2facd9fd1999",
    "helpers.py": "14995f457ff5038eed03fb9bb4f829d880ead7738f893bd6bef1305b5139913e",
    "test_snap.py": "457f7e47048af4b567bbe98f4a6a449450485af5a789a7ee2188695289457f9b",
}


def official_test_snap() -> ModuleType:
    """The official test module, imported as a package of its own (it uses relative imports)."""
    name = "midtransclient_official_tests"
    if f"{name}.test_snap" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, OFFICIAL_TESTS / "__init__.py", submodule_search_locations=[str(OFFICIAL_TESTS)]
        )
        assert spec is not None and spec.loader is not None
        package = importlib.util.module_from_spec(spec)
        sys.modules[name] = package
        spec.loader.exec_module(package)
    return importlib.import_module(f"{name}.test_snap")


def test_vendored_files_are_byte_identical_to_the_published_ones():
    vendored = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in OFFICIAL_TESTS.glob("*.py")
    }
    assert vendored == PUBLISHED


def test_official_helpers_create_the_order_in_this_sandbox(midtrans_is_the_sandbox):
    official = official_test_snap()
    param = official.generate_param_min()
    order_id = param["transaction_details"]["order_id"]
    assert " " in order_id and ":" in order_id  # the characters item 1 is about
    token = official.generate_snap_instance().create_transaction_token(param)
    order = httpx.get(f"{midtrans_is_the_sandbox}/_sandbox/orders/{quote(order_id, safe='')}")
    assert order.status_code == 200
    assert order.json()["token"] == token
    assert order.json()["gross_amount"] == 200000
