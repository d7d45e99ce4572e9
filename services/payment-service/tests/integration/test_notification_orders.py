"""Every delivery order of a payment's notifications, on real PostgreSQL, RabbitMQ and the sandbox.

For each permutation a fresh order lives its life at the sandbox with its own notifications
lost; the test then delivers that life's notifications by hand in the permutation's order (and
all of them again), advancing the sandbox to each notification's state just before delivering
it, so the status API answers Midtrans' truth at delivery time. Every order must end in the
life's final state and publish a gap-free, strictly increasing, coherent event stream.
(The unit test `tests/unit/test_notification_trust.py` runs 780 orders of five lives.)
"""

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

Advance = Callable[[Any, str], Awaitable[None]]


@dataclass(frozen=True)
class Step:
    status: str
    code: str
    advance: Advance  # make the sandbox's transaction reach this step
    extra: tuple[tuple[str, str], ...] = ()


def dashboard(action: str, amount: int | None = None) -> Advance:
    async def go(stack: Any, order_id: str) -> None:
        body: dict[str, Any] = {"action": action, "notify": False}
        if amount is not None:
            body["amount"] = amount
        response = await stack.http.post(
            f"{stack.sandbox_url}/_sandbox/orders/{order_id}/dashboard", json=body
        )
        assert response.status_code == 200, response.text

    return go


def paying(payment_type: str | None, outcome: str) -> Advance:
    async def go(stack: Any, order_id: str) -> None:
        await stack.pay(order_id, payment_type, outcome, notify=False)

    return go


LIVES: dict[str, tuple[list[Step], str]] = {
    "refunded-in-two-steps": (
        [
            Step("pending", "201", paying("gopay", "pending")),
            Step("settlement", "200", paying(None, "settlement")),
            Step(
                "partial_refund",
                "200",
                dashboard("partial_refund", 50_000),
                (("refund_amount", "50000.00"),),
            ),
            Step("refund", "200", dashboard("refund"), (("refund_amount", "150000.00"),)),
        ],
        "refunded",
    ),
    "declined-then-paid-then-refunded": (
        [
            Step("deny", "202", paying("credit_card", "deny")),
            Step("settlement", "200", paying("credit_card", "settlement")),
            Step("refund", "200", dashboard("refund"), (("refund_amount", "150000.00"),)),
        ],
        "refunded",
    ),
}
ORDERS = [
    (name, order)
    for name, (steps, _) in LIVES.items()
    for order in itertools.permutations(range(len(steps)))
]


@pytest.mark.parametrize(("life", "order"), ORDERS)
async def test_every_delivery_order_ends_the_same_with_increasing_sequences(
    stack, life: str, order: tuple[int, ...]
) -> None:
    steps, final = LIVES[life]
    order_id = await stack.opened()
    reached = -1
    for index in (*order, *order):
        while reached < index:  # Midtrans' transaction moves on, its notification is lost
            reached += 1
            await steps[reached].advance(stack, order_id)
        step = steps[index]
        status = (await stack.core("GET", f"/v2/{order_id}/status")).json()
        body = {
            **status,
            **dict(step.extra),
            "transaction_status": step.status,
            "status_code": step.code,
        }
        response = await stack.notify(stack.sign(body))
        assert response.status_code == 200, response.text
    assert await stack.status_of(order_id) == final
    payment = await stack.payment(order_id)

    async def all_published() -> list[dict[str, Any]]:
        for _ in range(200):
            messages = stack.tap.of(order_id)
            if len({m["event_id"] for m in messages}) >= payment["event_sequence"]:
                return messages
            await asyncio.sleep(0.05)
        raise AssertionError("not every event reached the broker")

    messages = await all_published()
    unique = {m["event_id"]: m for m in messages}.values()
    ordered = sorted(unique, key=lambda m: m["payload"]["sequence"])
    sequences = [m["payload"]["sequence"] for m in ordered]
    assert sequences == list(range(1, payment["event_sequence"] + 1))
    # The payment's own life (refund events, payment.refund_updated, share the counter).
    life = [m for m in ordered if m["event_type"] != "payment.refund_updated"]
    assert all(m["version"] == 3 for m in life if m["event_type"] != "payment.declined")
    kinds = [m["event_type"] for m in life]
    assert kinds.count("payment.settled") == 1
    assert kinds[-1] == "payment.refunded"
    assert life[-1]["payload"]["payment_status"] == final
    last_settled = max(i for i, k in enumerate(kinds) if k == "payment.settled")
    assert "payment.refunded" in kinds[last_settled + 1 :]
    assert "payment.failed" not in kinds
    # Every dashboard refund is shown as a refund once (payment.refund_updated, v2), each right
    # after the payment.refunded that found it, in the same one sequence.
    updates = [m for m in ordered if m["event_type"] == "payment.refund_updated"]
    assert updates
    assert all(m["version"] == 2 for m in updates)
    assert {(m["payload"]["method"], m["payload"]["refund_status"]) for m in updates} == {
        ("api", "succeeded")
    }
    assert sum(m["payload"]["refund_amount"] for m in updates) == 150_000
    first_refunded = next(m for m in ordered if m["event_type"] == "payment.refunded")
    assert all(m["payload"]["sequence"] > first_refunded["payload"]["sequence"] for m in updates)
