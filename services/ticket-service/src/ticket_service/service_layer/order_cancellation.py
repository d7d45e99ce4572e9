"""Cancelling an order: a pending one is released; a paid one has every ticket cancelled and
each ticket's share refunded (the door's per-ticket rules decide who may, and until when)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ticket_service.domain.door import Actor, DoorTicket, authorize_cancel
from ticket_service.domain.orders import Order, OrderNotCancellable, OrderNotFound
from ticket_service.domain.tickets import TicketStatus
from ticket_service.service_layer.cancellation import RefundRequests, request_refund_due
from ticket_service.service_layer.ports import Transactional


class OrderCancellationRepository(Transactional, RefundRequests, Protocol):
    async def lock_order(self, order_id: str) -> tuple[Order, list[DoorTicket]] | None:
        """The order and its tickets, locked (its transaction first, then its tickets by id)."""

    async def release(self, order_id: str, *, by: str, reason: str, now: datetime) -> None:
        """Cancel the order's pending tickets and free their seats; writes `ticket.cancelled`."""

    async def cancel_ticket(self, ticket: DoorTicket, *, by: str, reason: str) -> None:
        """Cancel an active ticket and free its seat; writes `ticket.cancelled`."""


@dataclass(frozen=True)
class CancelOrder:
    order_id: str
    actor: Actor
    reason: str | None = None


@dataclass(frozen=True)
class OrderCancelled:
    order_id: str
    refund_requested: int


async def cancel_order(
    repo: OrderCancellationRepository, command: CancelOrder, *, now: datetime
) -> OrderCancelled:
    async with repo.transaction():
        found = await repo.lock_order(command.order_id)
        if found is None:
            raise OrderNotFound("No such order.")
        order, tickets = found
        actor = command.actor
        host_id = tickets[0].host_id if tickets else ""
        if actor.user_id != order.buyer_id and not actor.runs(host_id):
            raise OrderNotFound("No such order.")
        by_buyer = not actor.runs(host_id)
        reason = command.reason or (
            "cancelled by the buyer" if by_buyer else "cancelled by the host"
        )
        if order.status == "pending":
            await repo.release(order.id, by=actor.user_id, reason=reason, now=now)
            return OrderCancelled(order.id, 0)
        active = [t for t in tickets if t.status == TicketStatus.ACTIVE]
        if order.status != "paid" or not active:
            raise OrderNotCancellable(
                f"A {order.status} order cannot be cancelled.", details={"status": order.status}
            )
        for ticket in active:  # all or nothing: one refusal cancels none
            authorize_cancel(ticket, actor, now)
        refunded = 0
        for ticket in active:
            await repo.cancel_ticket(ticket, by=actor.user_id, reason=reason)
            refunded += await request_refund_due(repo, ticket, reason=reason)
    return OrderCancelled(order.id, refunded)
