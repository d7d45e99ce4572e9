"""A sender that died mid-send: its claimed delivery is sent by another after the lease."""

import asyncio
import json
import time
from typing import Any

Gateway = Any


async def test_a_delivery_claimed_by_a_sender_that_died_is_sent_after_its_lease(
    gateway: Gateway,
) -> None:
    event = gateway.activated()
    email = event.payload["holder_email"]
    # What a replica leaves behind when it dies after claiming: attempt 1 counted, lease running.
    async with gateway.db.acquire() as conn:
        notification_id = await conn.fetchval(
            """INSERT INTO notifications (event_id, event_type, user_id, audience, language,
                   title, body, data, payload, occurred_at)
               VALUES ($1, 'ticket.activated', $2, 'holder', 'id', 't', 'b', '{}'::jsonb,
                       $3::jsonb, now())
               RETURNING id""",
            event.event_id,
            event.payload["user_id"],
            json.dumps(event.payload),
        )
        await conn.execute(
            """INSERT INTO deliveries (notification_id, event_id, channel, target, attempts,
                   next_attempt_at)
               VALUES ($1, $2, 'email', $3, 1, now() + interval '1 second')""",
            notification_id,
            event.event_id,
            email,
        )
    leased_at = time.monotonic()

    await asyncio.sleep(0.6)
    assert await gateway.mails_to(email) == []  # nobody touches it while the lease runs
    [mail] = await gateway.wait_for(lambda: gateway.mails_to(email))

    assert time.monotonic() - leased_at >= 1.0
    assert mail["subject"] == "E-tiket Anda: Jakarta Jazz Night"
    [delivery] = await gateway.settled(event.event_id, count=1)
    assert (delivery["status"], delivery["attempts"]) == ("sent", 2)
