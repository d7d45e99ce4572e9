"""Reading orders: one order for its buyer (or the event's host, or an admin), the buyer's pages."""

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from ticket_service.domain.door import Actor
from ticket_service.domain.entities import Ticket
from ticket_service.domain.orders import Order, OrderNotFound
from ticket_service.service_layer.views import PagePosition


class OrderReader(Protocol):
    async def order(self, order_id: str) -> Order | None: ...

    async def tickets(self, order_id: str) -> list[Ticket]: ...

    async def event_host(self, event_id: str) -> str | None: ...

    async def orders_of_buyer(
        self, buyer_id: str, *, after: PagePosition | None, limit: int
    ) -> list[Order]: ...


@dataclass(frozen=True)
class OrderWithTickets:
    order: Order
    tickets: list[Ticket]


@dataclass(frozen=True)
class OrderPage:
    orders: list[OrderWithTickets]
    next_after: PagePosition | None


async def order_for(reader: OrderReader, order_id: str, *, viewer: Actor) -> OrderWithTickets:
    order = await reader.order(order_id)
    if order is None:
        raise OrderNotFound("No such order.")
    if viewer.user_id != order.buyer_id and not viewer.runs(
        await reader.event_host(order.event_id) or ""
    ):
        raise OrderNotFound("No such order.")
    return OrderWithTickets(order, await reader.tickets(order.id))


async def orders_of(
    reader: OrderReader, buyer_id: str, *, after: PagePosition | None, limit: int
) -> OrderPage:
    """The buyer's orders, newest first."""
    found = await reader.orders_of_buyer(buyer_id, after=after, limit=limit + 1)
    page = found[:limit]
    more = len(found) > limit
    with_tickets = [OrderWithTickets(o, await reader.tickets(o.id)) for o in page]
    return OrderPage(with_tickets, (page[-1].created_at, UUID(page[-1].id)) if more else None)
