"""The exchange, each consumer's quorum queue and its dead-letter queue, declared alike by all.

RabbitMQ 3.10 quorum queues have no default delivery limit, so it is set explicitly. Consumers
dead-letter a failing message themselves (with its error) after `consumer_max_attempts`; the
broker's limit is the backstop for a message that crashes the consumer before it can do so.
"""

from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange
from ticketing_contracts import CONSUMER_QUEUES, DEAD_LETTER_EXCHANGE, EXCHANGE, QueueBinding

DELIVERY_LIMIT = 20


def queue_arguments(binding: QueueBinding) -> dict[str, Any]:
    return {
        "x-queue-type": "quorum",
        "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
        "x-dead-letter-routing-key": binding.queue,
        "x-delivery-limit": DELIVERY_LIMIT,
    }


async def declare_topology(channel: AbstractChannel) -> AbstractExchange:
    """Declare the whole topology (idempotent) and return the events exchange."""
    exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
    dead_letters = await channel.declare_exchange(
        DEAD_LETTER_EXCHANGE, aio_pika.ExchangeType.DIRECT, durable=True
    )
    for binding in CONSUMER_QUEUES:
        queue = await channel.declare_queue(
            binding.queue, durable=True, arguments=queue_arguments(binding)
        )
        for key in binding.routing_keys:
            await queue.bind(exchange, routing_key=key)
        for key in binding.retired_keys:
            await queue.unbind(exchange, routing_key=key)  # a no-op where it was never bound
        dlq = await channel.declare_queue(
            binding.dead_letter_queue, durable=True, arguments={"x-queue-type": "quorum"}
        )
        await dlq.bind(dead_letters, routing_key=binding.queue)
    return exchange
