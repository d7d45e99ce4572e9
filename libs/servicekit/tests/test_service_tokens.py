"""Service tokens: their own key and audience; never interchangeable with users' tokens."""

import time

import jwt
import pytest
from pydantic import SecretStr
from servicekit.auth import TokenVerifier, issue_token
from servicekit.correlation import set_correlation_id
from servicekit.errors import AppError
from servicekit.service_tokens import ServiceToken, ServiceTokenVerifier, issue_service_token
from servicekit.settings import ServiceSettings

SETTINGS = ServiceSettings(service_name="ticket-service")


def test_a_service_token_verifies_as_the_named_service() -> None:
    principal = ServiceTokenVerifier(SETTINGS).verify(issue_service_token(SETTINGS, sub="ticket"))
    assert principal.user_id == "ticket"
    assert principal.roles == frozenset({"service"})


def test_a_user_token_claiming_the_service_role_is_not_a_service_token() -> None:
    user_token = issue_token(SETTINGS, sub="mallory", roles=["user", "service"])
    with pytest.raises(AppError) as refused:
        ServiceTokenVerifier(SETTINGS).verify(user_token)
    assert (refused.value.status_code, refused.value.code) == (401, "invalid_service_token")


async def test_a_service_token_is_not_a_users_token() -> None:
    with pytest.raises(AppError) as refused:
        await TokenVerifier(SETTINGS).verify(issue_service_token(SETTINGS, sub="ticket"))
    assert refused.value.status_code == 401


@pytest.mark.parametrize(
    "forge",
    [
        lambda now: jwt.encode(  # another key
            {"sub": "x", "roles": ["service"], "iss": "x", "aud": "ticketing-internal",
             "exp": now + 60}, "k" * 40, algorithm="HS256"),
        lambda now: jwt.encode(  # expired
            {"sub": "x", "roles": ["service"], "iss": "x", "aud": "ticketing-internal",
             "exp": now - 5}, SETTINGS.service_token_secret.get_secret_value(), algorithm="HS256"),
        lambda now: jwt.encode(  # right key, no service role
            {"sub": "x", "roles": ["user"], "iss": "x", "aud": "ticketing-internal",
             "exp": now + 60}, SETTINGS.service_token_secret.get_secret_value(), algorithm="HS256"),
    ],
)  # fmt: skip
def test_forged_expired_or_role_less_service_tokens_are_refused(forge: object) -> None:
    assert callable(forge)
    with pytest.raises(AppError) as refused:
        ServiceTokenVerifier(SETTINGS).verify(forge(int(time.time())))
    assert refused.value.status_code in (401, 403)


def test_a_verifier_with_another_key_refuses_the_token() -> None:
    other = ServiceSettings(service_token_secret=SecretStr("o" * 40))
    with pytest.raises(AppError):
        ServiceTokenVerifier(other).verify(issue_service_token(SETTINGS, sub="ticket"))


def test_a_service_signs_its_token_once_and_again_before_it_expires() -> None:
    from servicekit.service_tokens import ServiceToken

    own = ServiceToken(SETTINGS, sub="ticket", ttl_seconds=120)
    first = own.current()
    assert own.current() == first
    claims = ServiceTokenVerifier(SETTINGS).verify(first).claims
    assert claims["exp"] - claims["iat"] == 120
    own._renew_at = time.time() - 1  # as if 60 s were left
    time.sleep(1.01)  # a new `iat`, so a new text
    renewed = own.current()
    assert renewed != first
    assert ServiceTokenVerifier(SETTINGS).verify(renewed).user_id == "ticket"


def test_a_calls_headers_carry_the_token_and_the_current_correlation_id() -> None:
    token = ServiceToken(SETTINGS, sub="ticket-service")
    set_correlation_id(None)
    assert token.headers() == {"Authorization": f"Bearer {token.current()}"}
    set_correlation_id("req-7f3a")
    try:
        headers = token.headers()
    finally:
        set_correlation_id(None)
    assert headers["X-Request-ID"] == "req-7f3a"
    principal = ServiceTokenVerifier(SETTINGS).verify(headers["Authorization"].split()[1])
    assert principal.user_id == "ticket-service"
