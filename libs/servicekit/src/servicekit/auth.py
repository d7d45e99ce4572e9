"""JWT bearer auth: HS256 with a shared secret in development, RS256 through JWKS in production.

`iss`, `aud`, `exp` and `sub` are required; `roles` must be a list drawn from KNOWN_ROLES.
Only the configured algorithms are accepted, so `none` and algorithm swaps are refused.
"""

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request

from servicekit.contract import error_statuses
from servicekit.errors import Forbidden, Unauthorized
from servicekit.settings import ServiceSettings
from servicekit.token_cache import VerifiedTokens

KNOWN_ROLES = frozenset({"user", "host", "admin", "service"})


@dataclass(frozen=True)
class Principal:
    """Who is calling: the JWT subject and its roles."""

    user_id: str
    roles: frozenset[str]
    claims: dict[str, Any] = field(default_factory=dict, compare=False)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


class TokenVerifier:
    def __init__(self, settings: ServiceSettings) -> None:
        self._secret = settings.jwt_secret.get_secret_value()
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._algorithms = list(settings.jwt_algorithms)
        self._jwks = jwt.PyJWKClient(settings.jwt_jwks_url) if settings.jwt_jwks_url else None
        self._verified: VerifiedTokens[Principal] = VerifiedTokens()

    async def verify(self, token: str) -> Principal:
        if (known := self._verified.get(token)) is not None:
            return known
        principal = await self._verify(token)
        self._verified.keep(token, principal, principal.claims)
        return principal

    async def _verify(self, token: str) -> Principal:
        try:
            key: Any = self._secret
            if self._jwks is not None and _header_alg(token) != "HS256":
                key = (await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)).key
            claims = jwt.decode(
                token,
                key=key,
                algorithms=self._algorithms,
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The token has expired.", code="token_expired") from exc
        except (jwt.PyJWTError, ValueError) as exc:
            raise Unauthorized(f"The token is not valid: {exc}", code="invalid_token") from exc
        return _principal(claims)


def _header_alg(token: str) -> str:
    return str(jwt.get_unverified_header(token).get("alg", ""))


def _principal(claims: dict[str, Any]) -> Principal:
    roles = claims.get("roles")
    if not isinstance(roles, list) or not roles:
        raise Unauthorized("The token carries no roles.", code="invalid_token")
    unknown = {r for r in roles if r not in KNOWN_ROLES}
    if unknown:
        raise Unauthorized(f"The token has unknown roles: {sorted(unknown)}", code="invalid_token")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.strip():
        raise Unauthorized("The token has no subject.", code="invalid_token")
    return Principal(user_id=sub, roles=frozenset(roles), claims=claims)


def issue_token(
    settings: ServiceSettings, *, sub: str, roles: Iterable[str], ttl_seconds: int = 12 * 3600
) -> str:
    """An HS256 user token signed with JWT_SECRET; for development and tests."""
    now = int(time.time())
    claims = {
        "sub": sub,
        "roles": list(roles),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


@error_statuses(401)
async def current_principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "Send 'Authorization: Bearer <token>'.",
            code="missing_token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    verifier: TokenVerifier = request.app.state.runtime.token_verifier
    return await verifier.verify(token.strip())


CurrentUser = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str) -> Any:
    """A dependency admitting callers with any of `roles`."""

    @error_statuses(403)
    async def check(principal: CurrentUser) -> Principal:
        if not principal.has_role(*roles):
            raise Forbidden(f"This needs one of the roles: {', '.join(roles)}.")
        return principal

    return Depends(check)


@error_statuses(401, 403)
async def service_caller(request: Request) -> Principal:
    """Only a service token (SERVICE_TOKEN_SECRET, the internal audience) passes: see
    `servicekit.service_tokens`. A user's token, whatever its roles, is refused here."""
    from servicekit.service_tokens import ServiceTokenVerifier

    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "Send 'Authorization: Bearer <service token>'.",
            code="missing_token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    verifier: ServiceTokenVerifier = request.app.state.runtime.service_token_verifier
    return verifier.verify(token.strip())


ServiceCaller = Annotated[Principal, Depends(service_caller)]
AdminUser = Annotated[Principal, require_roles("admin")]
