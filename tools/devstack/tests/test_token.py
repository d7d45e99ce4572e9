"""Development tokens are HS256 JWTs with the claims the services check."""

from __future__ import annotations

import subprocess
import sys
import time
import warnings

import jwt
import pytest
from devstack.config import DEV_JWT_AUDIENCE, DEV_JWT_ISSUER, DEV_JWT_SECRET, StackConfig
from devstack.token import make_token


def _decode(token: str) -> dict[str, object]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)  # the dev secret
        claims: dict[str, object] = jwt.decode(
            token,
            DEV_JWT_SECRET,
            algorithms=["HS256"],
            audience=DEV_JWT_AUDIENCE,
            issuer=DEV_JWT_ISSUER,
        )
    return claims


def test_token_carries_sub_roles_and_twelve_hour_expiry() -> None:
    claims = _decode(make_token(StackConfig.development(), "user-1", ["user", "host"]))
    assert claims["sub"] == "user-1"
    assert claims["roles"] == ["user", "host"]
    assert isinstance(claims["exp"], int)
    assert abs(claims["exp"] - (time.time() + 12 * 3600)) < 60


def test_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError, match="superuser"):
        make_token(StackConfig.development(), "user-1", ["superuser"])


def test_cli_prints_a_token() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "devstack", "token", "--sub", "u-9", "--roles", "user,admin"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert _decode(result.stdout.strip())["roles"] == ["user", "admin"]
