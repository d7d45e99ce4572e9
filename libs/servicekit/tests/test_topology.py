"""The topology binds each queue to exactly its keys, on a new broker and on an upgraded one."""

import aio_pika
from servicekit.messaging import declare_topology
from servicekit.testing import fresh_vhost
from ticketing_contracts import EXCHANGE
from ticketing_contracts.routing import NOTIFICATION_GATEWAY_ALL


async def test_an_upgraded_broker_loses_the_retired_wildcards_and_hears_the_listed_keys() -> None:
    connection = await aio_pika.connect(fresh_vhost("servicekit_topology"))
    try:
        async with connection.channel() as channel:
            await declare_topology(channel)  # a broker that never had the wildcards: no error
            exchange = await channel.get_exchange(EXCHANGE)
            queue = await channel.get_queue(NOTIFICATION_GATEWAY_ALL.queue)
            for retired in NOTIFICATION_GATEWAY_ALL.retired_keys:
                await queue.bind(exchange, routing_key=retired)  # as an older release bound it

            await declare_topology(channel)  # the upgrade's start-up
            for key in ("payment.settled", "ticket.refund_requested", "ticket.activated"):
                await exchange.publish(aio_pika.Message(body=key.encode()), routing_key=key)

            heard = []
            while (message := await queue.get(no_ack=True, fail=False, timeout=5)) is not None:
                heard.append(message.body.decode())
            assert heard == ["ticket.activated"]
    finally:
        await connection.close()
