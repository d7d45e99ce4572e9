"""SQL for Idempotency-Keys of purchases: the key's request, its ticket and its first answer."""

import uuid
from datetime import datetime

import asyncpg
from servicekit.idempotency import KeyRecord, StoredAnswer

from ticket_service.domain.purchases import PurchaseRequest

_FIND = """SELECT request_hash, ticket_id, response_status, response_body, purchase_order_id
             FROM purchase_requests WHERE user_id = $1 AND idempotency_key = $2"""


class SqlPurchaseRequests:
    """The key's row inside a purchase's transaction (one request's connection)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def find_request(self, buyer_id: str, key: str) -> PurchaseRequest | None:
        row = await self.conn.fetchrow(_FIND, buyer_id, key)
        if row is None:
            return None
        ticket_id, order_id = row["ticket_id"], row["purchase_order_id"]
        return PurchaseRequest(
            fingerprint=row["request_hash"],
            ticket_id=str(ticket_id) if ticket_id is not None else None,
            answered=row["response_body"] is not None,
            order_id=str(order_id) if order_id is not None else None,
        )

    async def claim_request(self, buyer_id: str, key: str, fingerprint: str) -> bool:
        inserted = await self.conn.fetchval(
            """INSERT INTO purchase_requests (user_id, idempotency_key, request_hash)
               VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING true""",
            buyer_id,
            key,
            fingerprint,
        )
        return bool(inserted)

    async def attach_ticket(self, buyer_id: str, key: str, ticket_id: str) -> None:
        await self.conn.execute(
            """UPDATE purchase_requests SET ticket_id = $3
                WHERE user_id = $1 AND idempotency_key = $2""",
            buyer_id,
            key,
            uuid.UUID(ticket_id),
        )

    async def forget_request(self, buyer_id: str, key: str) -> None:
        await self.conn.execute(
            "DELETE FROM purchase_requests WHERE user_id = $1 AND idempotency_key = $2",
            buyer_id,
            key,
        )


class SqlPurchaseAnswers:
    """servicekit's AnswerStore on `purchase_requests`: keys are per buyer."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def find(self, owner: str, key: str) -> KeyRecord | None:
        row = await self.pool.fetchrow(_FIND, owner, key)
        if row is None:
            return None
        answer = None
        if row["response_body"] is not None:
            answer = StoredAnswer(row["response_status"], row["response_body"])
        return KeyRecord(fingerprint=row["request_hash"], answer=answer)

    async def store_first(self, owner: str, key: str, answer: StoredAnswer) -> StoredAnswer:
        """Keep the first answer; a concurrent retry that stored one already wins."""
        async with self.pool.acquire() as conn:
            await conn.execute(
                """UPDATE purchase_requests SET response_status = $3, response_body = $4
                    WHERE user_id = $1 AND idempotency_key = $2 AND response_body IS NULL""",
                owner,
                key,
                answer.status_code,
                dict(answer.body),
            )
            row = await conn.fetchrow(_FIND, owner, key)
        if row is None or row["response_body"] is None:
            # Forgotten meanwhile (a concurrent attempt released the hold): ours stands.
            return answer
        return StoredAnswer(row["response_status"], row["response_body"])


async def forget_purchase_requests_before(conn: asyncpg.Connection, before: datetime) -> int:
    """Idempotency keys are kept a day: long past any client's retry."""
    status: str = await conn.execute("DELETE FROM purchase_requests WHERE created_at < $1", before)
    return int(status.split()[-1])
