"""HTTP notifications: delivery to the merchant's URLs with Midtrans' retries, and the delivery log.

Retry rules (REFERENCE §6): 2xx none; 500 once; 503 four times; 400 and 404 twice;
301/302/303 none; 307/308 followed with the same POST; anything else, timeouts
included, five times. Retries come about 2 min, 10 min, 30 min, 1.5 h and 3.5 h
after the first attempt, multiplied by SANDBOX_RETRY_SCALE.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from servicekit.outbound import PooledTransport

from midtrans_sandbox import __version__
from midtrans_sandbox.settings import Settings

log = logging.getLogger(__name__)

RETRY_DELAYS_SECONDS = (120.0, 600.0, 1800.0, 5400.0, 12600.0)
MAX_REDIRECTS = 5
USER_AGENT = f"midtrans-sandbox/{__version__}"


def retries_allowed(status: int | None) -> int:
    """How many retries Midtrans makes for an answer (None: timeout or connection error)."""
    if status is None:
        return 5
    if 200 <= status < 300 or status in {301, 302, 303}:
        return 0
    if status == 500:
        return 1
    if status == 503:
        return 4
    if status in {400, 404}:
        return 2
    return 5


# Notifications to our webhook go out 100 at once (a settle storm); the rest wait their turn.
NOTIFICATION_CONNECTIONS = 100


@dataclass(slots=True)
class Faults:
    """The optional fault knob: a share of notifications sent twice, a share sent late."""

    duplicate_rate: float = 0.0
    delay_rate: float = 0.0
    delay_seconds: float = 2.0
    rng: random.Random = field(default_factory=random.Random)

    def as_dict(self) -> dict[str, float]:
        return {
            "duplicate_rate": self.duplicate_rate,
            "delay_rate": self.delay_rate,
            "delay_seconds": self.delay_seconds,
        }

    def roll(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate


@dataclass(slots=True)
class SentNotification:
    notification_id: str
    order_id: str
    body: dict[str, Any]
    urls: list[str]
    created_at: datetime


@dataclass(slots=True)
class Attempt:
    notification_id: str
    order_id: str
    url: str
    attempt: int
    kind: str  # original | retry | replay | duplicate | redirect
    body: dict[str, Any]
    sent_at: datetime
    status: int | None = None
    error: str | None = None
    response_body: str | None = None
    duration_ms: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "notification_id": self.notification_id,
            "order_id": self.order_id,
            "url": self.url,
            "attempt": self.attempt,
            "kind": self.kind,
            "transaction_status": self.body.get("transaction_status"),
            "status_code": self.body.get("status_code"),
            "body": self.body,
            "sent_at": self.sent_at.isoformat(),
            "response_status": self.status,
            "error": self.error,
            "response_body": self.response_body,
            "duration_ms": self.duration_ms,
            "success": self.status is not None and 200 <= self.status < 300,
        }


class Notifier:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.faults = Faults(
            duplicate_rate=settings.duplicate_rate,
            delay_rate=settings.delay_rate,
            delay_seconds=settings.delay_seconds,
            rng=random.Random(settings.fault_seed),  # noqa: S311 - faults, not secrets
        )
        self.sent: dict[str, list[SentNotification]] = {}
        self.attempts: list[Attempt] = []
        self._attempts_by_order: dict[str, list[Attempt]] = {}
        self._tasks: dict[asyncio.Task[None], str] = {}
        # The first attempts of one order's notifications to one URL go out in order.
        self._last_first_attempt: dict[tuple[str, str], asyncio.Event] = {}
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self._settings.notification_timeout,
                follow_redirects=False,
                transport=PooledTransport(NOTIFICATION_CONNECTIONS),
            )
        return self._client

    def send(self, order_id: str, body: dict[str, Any], urls: list[str]) -> SentNotification:
        sent = SentNotification(
            notification_id=str(uuid.uuid4()),
            order_id=order_id,
            body=body,
            urls=list(urls),
            created_at=datetime.now(UTC),
        )
        self.sent.setdefault(order_id, []).append(sent)
        for url in urls:
            late = self.faults.roll(self.faults.delay_rate)
            self._schedule(sent, url, "original", late=late)
            if self.faults.roll(self.faults.duplicate_rate):
                self._schedule(sent, url, "duplicate", late=False)
        return sent

    def replay(self, order_id: str, *, everything: bool, shuffle: bool) -> list[str]:
        """Send again notifications already sent: the last one, or all (optionally shuffled)."""
        history = list(self.sent.get(order_id, []))
        chosen = history if everything else history[-1:]
        if shuffle:
            self.faults.rng.shuffle(chosen)
        for sent in chosen:
            for url in sent.urls:
                self._schedule(sent, url, "replay", late=False)
        return [s.notification_id for s in chosen]

    def log(self, order_id: str | None = None) -> list[dict[str, Any]]:
        attempts = self.attempts if order_id is None else self._attempts_by_order.get(order_id, [])
        return [a.as_dict() for a in attempts]

    def in_flight(self, order_id: str | None = None) -> int:
        """Deliveries running or waiting to retry, of one order or of all."""
        if order_id is None:
            return len(self._tasks)
        return sum(1 for owner in self._tasks.values() if owner == order_id)

    async def reset(self) -> None:
        await self._cancel_tasks()
        self.sent.clear()
        self.attempts.clear()
        self._attempts_by_order.clear()
        self._last_first_attempt.clear()
        self.faults.duplicate_rate = self._settings.duplicate_rate
        self.faults.delay_rate = self._settings.delay_rate
        self.faults.delay_seconds = self._settings.delay_seconds

    async def aclose(self) -> None:
        await self._cancel_tasks()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _cancel_tasks(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()

    def _schedule(self, sent: SentNotification, url: str, kind: str, *, late: bool) -> None:
        key = (sent.order_id, url)
        previous = self._last_first_attempt.get(key)
        done = asyncio.Event()
        self._last_first_attempt[key] = done
        task = asyncio.get_running_loop().create_task(
            self._deliver(sent, url, kind, previous=previous, done=done, late=late)
        )
        self._tasks[task] = sent.order_id
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._tasks.pop(task, None)

    async def _deliver(
        self,
        sent: SentNotification,
        url: str,
        kind: str,
        *,
        previous: asyncio.Event | None,
        done: asyncio.Event,
        late: bool,
    ) -> None:
        try:
            if late:
                # A late notification no longer holds back the ones after it.
                done.set()
                await asyncio.sleep(self.faults.delay_seconds)
            elif previous is not None:
                await previous.wait()
            status = await self._attempt(sent, url, 1, kind)
            done.set()
            retries = 0
            while not _succeeded(status) and retries < retries_allowed(status):
                delay = RETRY_DELAYS_SECONDS[retries] * self._settings.retry_scale
                await asyncio.sleep(delay)
                retries += 1
                status = await self._attempt(sent, url, retries + 1, "retry")
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("notification delivery to %s failed unexpectedly", url)
        finally:
            done.set()

    async def _attempt(
        self, sent: SentNotification, url: str, number: int, kind: str
    ) -> int | None:
        """One attempt; 307/308 are followed with the same POST, each hop logged."""
        payload = json.dumps(sent.body).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        target = url
        for hop in range(MAX_REDIRECTS + 1):
            attempt = Attempt(
                notification_id=sent.notification_id,
                order_id=sent.order_id,
                url=target,
                attempt=number,
                kind=kind if hop == 0 else "redirect",
                body=sent.body,
                sent_at=datetime.now(UTC),
            )
            self.attempts.append(attempt)
            self._attempts_by_order.setdefault(sent.order_id, []).append(attempt)
            started = asyncio.get_running_loop().time()
            try:
                response = await self.client.post(target, content=payload, headers=headers)
            except httpx.TimeoutException:
                attempt.error = "timeout"
                return None
            except httpx.HTTPError as error:
                attempt.error = f"{type(error).__name__}: {error}"
                return None
            finally:
                attempt.duration_ms = round((asyncio.get_running_loop().time() - started) * 1000, 3)
            attempt.status = response.status_code
            attempt.response_body = response.text[:500]
            location = response.headers.get("location")
            if response.status_code in {307, 308} and location and hop < MAX_REDIRECTS:
                target = str(httpx.URL(target).join(location))
                continue
            return response.status_code
        return None


def _succeeded(status: int | None) -> bool:
    return status is not None and 200 <= status < 300
