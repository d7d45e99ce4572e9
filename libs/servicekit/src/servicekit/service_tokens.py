"""Service-to-service tokens: a key of their own, apart from the users' identity provider.

Users' tokens come from the identity provider (RS256 through JWKS in production, or HS256 with
JWT_SECRET); the services cannot sign those. So a calling service (ticket-service) signs a short
HS256 token with SERVICE_TOKEN_SECRET, audience `SERVICE_TOKEN_AUDIENCE` and role `service`, and
the called service accepts it on `/internal/*` only (`auth.ServiceCaller`). Each kind of token
is refused where the other belongs: a user's token on `/internal/*` (wrong key and audience), a
service token on a user's route (the user verifier does not know the key or the audience).
"""

import time

import jwt

from servicekit.auth import Principal, _principal
from servicekit.correlation import current_correlation_id
from servicekit.errors import Forbidden, Unauthorized
from servicekit.settings import ServiceSettings
from servicekit.token_cache import VerifiedTokens

SERVICE_ROLE = "service"
ALGORITHM = "HS256"


def issue_service_token(settings: ServiceSettings, *, sub: str, ttl_seconds: int = 3600) -> str:
    """A token naming service `sub`, for `/internal/*` routes of the other services."""
    now = int(time.time())
    claims = {
        "sub": sub,
        "roles": [SERVICE_ROLE],
        "iss": settings.service_name,
        "aud": settings.service_token_audience,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, settings.service_token_secret.get_secret_value(), algorithm=ALGORITHM)


class ServiceToken:
    """This service's own token for calls to the others, signed again a minute before expiry."""

    def __init__(self, settings: ServiceSettings, *, sub: str, ttl_seconds: int = 3600) -> None:
        self._settings = settings
        self._sub = sub
        self._ttl = ttl_seconds
        self._token = ""
        self._renew_at = 0.0

    def current(self) -> str:
        now = time.time()
        if now >= self._renew_at:
            self._token = issue_service_token(self._settings, sub=self._sub, ttl_seconds=self._ttl)
            self._renew_at = now + max(self._ttl - 60, self._ttl / 2)
        return self._token

    def headers(self) -> dict[str, str]:
        """The call's headers: this token, and the request's or message's correlation id as
        X-Request-ID, so the called service logs the same id and one purchase reads as one."""
        headers = {"Authorization": f"Bearer {self.current()}"}
        if (correlation_id := current_correlation_id()) is not None:
            headers["X-Request-ID"] = correlation_id
        return headers


class ServiceTokenVerifier:
    def __init__(self, settings: ServiceSettings) -> None:
        self._secret = settings.service_token_secret.get_secret_value()
        self._audience = settings.service_token_audience
        self._verified: VerifiedTokens[Principal] = VerifiedTokens(size=64)

    def verify(self, token: str) -> Principal:
        if (known := self._verified.get(token)) is not None:
            return known
        principal = self._verify(token)
        self._verified.keep(token, principal, principal.claims)
        return principal

    def _verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                key=self._secret,
                algorithms=[ALGORITHM],
                audience=self._audience,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The service token has expired.", code="token_expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"Not a service token: {exc}", code="invalid_service_token") from exc
        principal = _principal(claims)
        if not principal.has_role(SERVICE_ROLE):
            raise Forbidden("This is for services only.", code="not_a_service")
        return principal
