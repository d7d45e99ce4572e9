"""Ports several use cases share: the ticket.* events they write to the outbox."""

from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from ticket_service.domain.entities import Ticket


class TicketEvents(Protocol):
    """Writes `ticket.*` to the outbox in the caller's transaction."""

    async def activated(self, ticket: Ticket, *, at: datetime) -> None:
        """`ticket.activated`, with the signed QR payload."""

    async def transferred(self, ticket: Ticket, *, at: datetime) -> None:
        """`ticket.activated` for a transfer's receiver: their e-ticket, new code and QR."""

    async def cancelled(self, ticket: Ticket, *, at: datetime, by: str, reason: str) -> None: ...

    async def expired(self, ticket: Ticket, *, at: datetime) -> None: ...

    async def refund_requested(self, ticket: Ticket, *, amount: int, reason: str) -> None: ...

    async def checked_in(self, ticket: Ticket) -> None: ...


class Transactional(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[None]: ...
