"""JWT checks: every malformed, expired, misdirected or role-less token is refused."""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import APIRouter, FastAPI
from servicekit.auth import CurrentUser, TokenVerifier, issue_token, require_roles
from servicekit.errors import AppError, install_error_handlers
from servicekit.settings import ServiceSettings
from servicekit.testing import free_port

SETTINGS = ServiceSettings()


def token(**overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "sub": "user-1",
        "roles": ["user"],
        "iss": SETTINGS.jwt_issuer,
        "aud": SETTINGS.jwt_audience,
        "exp": now + 60,
        "iat": now,
    }
    algorithm = overrides.pop("algorithm", "HS256")
    key = overrides.pop("key", SETTINGS.jwt_secret.get_secret_value())
    headers = overrides.pop("headers", None)
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


def none_token() -> str:
    import base64

    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"sub": "admin-1", "roles": ["admin"], "iss": SETTINGS.jwt_issuer}
    claims |= {"aud": SETTINGS.jwt_audience, "exp": now + 60}
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


async def verify(raw: str) -> Any:
    return await TokenVerifier(SETTINGS).verify(raw)


async def test_valid_token_gives_the_subject_and_roles() -> None:
    principal = await verify(token(roles=["user", "host"]))
    assert principal.user_id == "user-1"
    assert principal.roles == {"user", "host"}


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (lambda: token(exp=int(time.time()) - 5), "token_expired"),
        (lambda: token(aud="another-api"), "invalid_token"),
        (lambda: token(iss="someone-else"), "invalid_token"),
        (lambda: token(algorithm="HS512"), "invalid_token"),
        (none_token, "invalid_token"),
        (lambda: token(key="a-different-secret-of-enough-length-000"), "invalid_token"),
        (lambda: token(roles=None), "invalid_token"),
        (lambda: token(roles=[]), "invalid_token"),
        (lambda: token(roles="admin"), "invalid_token"),
        (lambda: token(roles=["superuser"]), "invalid_token"),
        (lambda: token(sub=None), "invalid_token"),
        (lambda: token(exp=None), "invalid_token"),
        (lambda: "not.a.jwt", "invalid_token"),
    ],
    ids=[
        "expired",
        "wrong-audience",
        "wrong-issuer",
        "wrong-algorithm",
        "none-algorithm",
        "wrong-key",
        "missing-roles",
        "empty-roles",
        "roles-not-a-list",
        "unknown-role",
        "missing-subject",
        "missing-expiry",
        "garbage",
    ],
)
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
async def test_bad_token_is_refused_with_401(raw: Any, code: str) -> None:
    with pytest.raises(AppError) as refused:
        await verify(raw())
    assert refused.value.status_code == 401
    assert refused.value.code == code


async def test_rs256_token_from_the_jwks_url_is_accepted_and_hs256_forgery_with_it_is_not(
    jwks_url: tuple[str, Any],
) -> None:
    url, private_key = jwks_url
    settings = ServiceSettings(jwt_jwks_url=url, jwt_algorithms=["RS256"])
    verifier = TokenVerifier(settings)
    good = token(algorithm="RS256", key=private_key, roles=["host"], headers={"kid": "k1"})
    principal = await verifier.verify(good)
    assert principal.roles == {"host"}
    with pytest.raises(AppError):
        await verifier.verify(token())  # HS256 with the dev secret is not an accepted algorithm


@pytest.fixture
def jwks_url() -> Iterator[tuple[str, Any]]:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
    jwk |= {"kid": "k1", "use": "sig", "alg": "RS256"}
    body = json.dumps({"keys": [jwk]}).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    port = free_port()
    server = HTTPServer(("127.0.0.1", port), Jwks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/.well-known/jwks.json", private_key
    server.shutdown()


def app_with_roles() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.state.runtime = type("R", (), {"token_verifier": TokenVerifier(SETTINGS)})()
    router = APIRouter()

    @router.get("/me")
    async def me(user: CurrentUser) -> dict[str, str]:
        return {"user_id": user.user_id}

    @router.get("/hosts-only", dependencies=[require_roles("host", "admin")])
    async def hosts_only() -> dict[str, bool]:
        return {"ok": True}

    app.include_router(router)
    return app


async def test_http_missing_token_is_401_and_missing_role_is_403_in_the_envelope() -> None:
    transport = httpx.ASGITransport(app=app_with_roles())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        missing = await client.get("/me")
        assert missing.status_code == 401
        assert missing.json()["error"]["code"] == "missing_token"
        user = {"authorization": f"Bearer {issue_token(SETTINGS, sub='u1', roles=['user'])}"}
        assert (await client.get("/me", headers=user)).json() == {"user_id": "u1"}
        refused = await client.get("/hosts-only", headers=user)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "forbidden"
        host = {"authorization": f"Bearer {issue_token(SETTINGS, sub='h1', roles=['host'])}"}
        assert (await client.get("/hosts-only", headers=host)).status_code == 200


async def test_a_verified_token_is_answered_again_only_until_it_expires() -> None:
    verifier = TokenVerifier(SETTINGS)
    short = token(exp=int(time.time()) + 1)
    assert (await verifier.verify(short)).user_id == "user-1"
    assert (await verifier.verify(short)).user_id == "user-1"  # from the cache
    time.sleep(max(0.0, int(time.time()) + 1.05 - time.time()))
    with pytest.raises(AppError) as refused:
        await verifier.verify(short)
    assert refused.value.code == "token_expired"


async def test_a_tampered_copy_of_a_verified_token_is_still_refused() -> None:
    verifier = TokenVerifier(SETTINGS)
    good = token(roles=["user"])
    await verifier.verify(good)
    header, _, rest = good.partition(".")
    claims, _, signature = rest.partition(".")
    forged_claims = json.loads(jwt.utils.base64url_decode(claims)) | {"roles": ["admin"]}
    forged = ".".join(
        [header, jwt.utils.base64url_encode(json.dumps(forged_claims).encode()).decode(), signature]
    )
    with pytest.raises(AppError) as refused:
        await verifier.verify(forged)
    assert refused.value.code == "invalid_token"
