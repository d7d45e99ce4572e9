"""What the order tests share: a host's sale setup, an order, the counters of every level."""

import uuid
from typing import Any

import httpx
from ticketing_contracts import PaymentSettledV3


async def setup_sale(
    stack: Any,
    *,
    capacity: int = 20,
    types: dict[str, dict[str, Any]] | None = None,
    quotas: dict[str, dict[str, Any]] | None = None,
    **event_extra: Any,
) -> dict[str, Any]:
    """An event with ticket types and quotas; returns the event with its `host` user id."""
    host = f"host-{uuid.uuid4()}"
    event = await stack.put_event(host=host, price=50_000, capacity=capacity, **event_extra)
    async with stack.client() as client:
        for type_id, body in (types or {}).items():
            response = await client.put(
                f"/events/{event['id']}/ticket-types/{type_id}",
                json=body,
                headers=stack.auth(host, "host"),
            )
            assert response.status_code in (200, 201), response.text
        for quota_id, body in (quotas or {}).items():
            response = await client.put(
                f"/events/{event['id']}/quotas/{quota_id}",
                json=body,
                headers=stack.auth(host, "host"),
            )
            assert response.status_code in (200, 201), response.text
    return {**event, "host": host}


async def put_promo(stack: Any, event: dict[str, Any], code: str, **body: Any) -> httpx.Response:
    async with stack.client() as client:
        return await client.put(
            f"/events/{event['id']}/promo-codes/{code}",
            json=body,
            headers=stack.auth(event["host"], "host"),
        )


def order_body(event: dict[str, Any], items: dict[str, int], **extra: Any) -> dict[str, Any]:
    return {
        "event_id": event["id"],
        "items": [{"ticket_type_id": t, "quantity": q} for t, q in items.items()],
        "customer_name": "Siti Rahma",
        "customer_email": "siti@example.id",
        "customer_phone": "+6281234567890",
        **extra,
    }


async def order(
    stack: Any,
    event: dict[str, Any],
    items: dict[str, int],
    user: str | None = None,
    *,
    client: httpx.AsyncClient | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> httpx.Response:
    user = user or f"buyer-{uuid.uuid4()}"
    request_headers = {**stack.auth(user), **(headers or {})}
    body = order_body(event, items, **extra)
    if client is not None:
        return await client.post("/orders", json=body, headers=request_headers)
    async with stack.client() as own:
        return await own.post("/orders", json=body, headers=request_headers)


async def counters(stack: Any, event_id: str) -> dict[str, tuple[int, int]]:
    """(sold, held) of the event, each type (`type:<id>`) and each quota (`quota:<id>`)."""
    found = await stack.pool.fetch(
        """SELECT 'event' AS name, sold, held FROM ticketed_events WHERE event_id = $1
           UNION ALL SELECT 'type:' || id, sold, held FROM ticket_types WHERE event_id = $1
           UNION ALL SELECT 'quota:' || id, sold, held FROM quotas WHERE event_id = $1""",
        event_id,
    )
    return {r["name"]: (r["sold"], r["held"]) for r in found}


async def counted_tickets(stack: Any, event_id: str) -> dict[str, tuple[int, int]]:
    """The same figures recounted from the tickets themselves."""
    found = await stack.pool.fetch(
        """SELECT 'event' AS name, count(*) FILTER (WHERE status = 'active') AS sold,
                  count(*) FILTER (WHERE status = 'pending') AS held
             FROM tickets WHERE event_id = $1
           UNION ALL
           SELECT 'type:' || ty.id, count(t.id) FILTER (WHERE t.status = 'active'),
                  count(t.id) FILTER (WHERE t.status = 'pending')
             FROM ticket_types ty
             LEFT JOIN tickets t ON t.event_id = ty.event_id AND t.ticket_type_id = ty.id
            WHERE ty.event_id = $1 GROUP BY ty.id
           UNION ALL
           SELECT 'quota:' || q.id, count(t.id) FILTER (WHERE t.status = 'active'),
                  count(t.id) FILTER (WHERE t.status = 'pending')
             FROM quotas q
             JOIN quota_ticket_types qt ON qt.event_id = q.event_id AND qt.quota_id = q.id
             LEFT JOIN tickets t ON t.event_id = q.event_id AND t.ticket_type_id = qt.ticket_type_id
            WHERE q.event_id = $1 GROUP BY q.id""",
        event_id,
    )
    return {r["name"]: (r["sold"], r["held"]) for r in found}


async def outbox_of_order(stack: Any, purchase_order_id: str) -> list[dict[str, Any]]:
    found = await stack.pool.fetch(
        """SELECT body FROM outbox WHERE body->'payload'->>'purchase_order_id' = $1
            ORDER BY created_at, event_type""",
        purchase_order_id,
    )
    return [dict(r["body"]) for r in found]


def settled(order: dict[str, Any]) -> PaymentSettledV3:
    """payment-service's settlement of the order's one Midtrans payment."""
    first = order["tickets"][0]
    return PaymentSettledV3(
        order_id=order["payment"]["order_id"],
        ticket_id=first["id"],
        event_id=order["event_id"],
        user_id=first["user_id"],
        amount=order["total"],
        customer_name=order["customer_name"],
        customer_email=order["customer_email"],
        payment_type="bank_transfer",
        transaction_id=f"mt-{uuid.uuid4()}",
        settled_at=first["purchased_at"],
        sequence=2,
        payment_status="settled",
        purchase_order_id=order["id"],
        ticket_ids=[t["id"] for t in order["tickets"]],
    )
