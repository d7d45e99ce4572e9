"""Development JWTs that the services accept (HS256 with the dev secret, issuer and audience)."""

from __future__ import annotations

import time
from collections.abc import Iterable

import jwt

from devstack.config import StackConfig

TOKEN_LIFETIME_SECONDS = 12 * 60 * 60
ROLES = ("user", "host", "admin")


def make_token(
    config: StackConfig,
    sub: str,
    roles: Iterable[str] = ("user",),
    *,
    lifetime: int = TOKEN_LIFETIME_SECONDS,
) -> str:
    role_list = [role.strip() for role in roles if role.strip()]
    unknown = sorted(set(role_list) - set(ROLES))
    if unknown:
        raise ValueError(f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    if not sub:
        raise ValueError("sub (the user id) must not be empty")
    now = int(time.time())
    claims = {
        "sub": sub,
        "roles": role_list,
        "iss": config.jwt_issuer,
        "aud": config.jwt_audience,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
    }
    return jwt.encode(claims, config.jwt_secret, algorithm="HS256")
