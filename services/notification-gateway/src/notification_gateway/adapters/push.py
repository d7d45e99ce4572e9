"""Push: one FCM HTTP v1 `messages:send` request per device token.

`POST {endpoint}/v1/projects/{project}/messages:send` with
`{"message": {"token", "notification": {"title", "body"}, "data": {str: str}}}` and a bearer
token. FCM's answer decides: 200 sent; 404 `UNREGISTERED` or 400 `INVALID_ARGUMENT` about the
token means the token is dead (dropped); 429 and 5xx are retried; other 4xx are permanent.
"""

from typing import Any

import httpx

from notification_gateway.domain.model import Outcome, PermanentFailure, Sent, TemporaryFailure

_DEAD_TOKEN_CODES = {"UNREGISTERED", "INVALID_ARGUMENT"}


class FcmClient:
    def __init__(
        self, *, endpoint: str, project_id: str, access_token: str, timeout: float
    ) -> None:
        self._url = f"{endpoint.rstrip('/')}/v1/projects/{project_id}/messages:send"
        self._client = httpx.AsyncClient(
            timeout=timeout, headers={"Authorization": f"Bearer {access_token}"}
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(self, *, token: str, title: str, body: str, data: dict[str, str]) -> Outcome:
        message = {
            "message": {
                "token": token,
                "notification": {"title": title, "body": body},
                "data": data,
                "android": {"priority": "high"},
                "apns": {"headers": {"apns-priority": "10"}},
            }
        }
        try:
            response = await self._client.post(self._url, json=message)
        except httpx.HTTPError as exc:
            return TemporaryFailure(f"{type(exc).__name__}: {exc}")
        return classify(response.status_code, _json(response))


def classify(status: int, body: dict[str, Any]) -> Outcome:
    if status == 200:
        return Sent(str(body.get("name", "")))
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    assert isinstance(error, dict)
    codes = {str(error.get("status", ""))} | {
        str(detail.get("errorCode", ""))
        for detail in error.get("details", [])
        if isinstance(detail, dict)
    }
    reasons = " ".join(sorted(code for code in codes if code))
    text = f"FCM {status} {reasons}: {error.get('message', '')}"
    if status == 429 or status >= 500:
        return TemporaryFailure(text)
    if status in (400, 404) and codes & _DEAD_TOKEN_CODES:
        return PermanentFailure(text, drop_device=True)
    return PermanentFailure(text)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
