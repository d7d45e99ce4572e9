"""Transferring a ticket: the holder offers it to a named person, who accepts with the token.

Every use case locks the ticket first and the transfer after it, so an offer, its acceptance, a
withdrawal and a check-in of the same ticket queue on one row and can never deadlock. The
acceptance gives the ticket a new attendance code (hence a new QR): the old ones stop at once.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from ticket_service.domain.door import Actor
from ticket_service.domain.entities import Ticket
from ticket_service.domain.errors import EventNotFound, NotEventHost, TicketNotFound
from ticket_service.domain.transfers import (
    Transfer,
    TransferableTicket,
    TransferAlreadyOffered,
    TransferNotFound,
    TransferNotOpen,
    TransferPolicy,
    TransferStatus,
    TransferToSelf,
    new_accept_token,
    offer_expiry,
    refuse_transfer,
    token_digest,
)
from ticket_service.service_layer.ports import TicketEvents, Transactional


@dataclass(frozen=True)
class EventTransferRules:
    event_id: str
    host_id: str
    policy: TransferPolicy


class TransferRepository(Transactional, Protocol):
    @property
    def events(self) -> TicketEvents: ...

    async def transferable(
        self, ticket_id: str, *, lock: bool = False
    ) -> TransferableTicket | None: ...

    async def open_offer(self, ticket_id: str) -> Transfer | None: ...

    async def offer_by_token(self, token_hash: str) -> Transfer | None: ...

    async def insert_offer(
        self,
        ticket: TransferableTicket,
        *,
        to_name: str,
        to_email: str,
        token_hash: str,
        expires_at: datetime,
    ) -> Transfer: ...

    async def close_offer(self, transfer_id: str, status: TransferStatus) -> Transfer:
        """Mark an open offer withdrawn or expired."""

    async def hand_over(self, transfer: Transfer, *, to_user_id: str) -> Ticket:
        """Move the ticket to the receiver with a new code and QR; mark the offer accepted."""

    async def trail(self, ticket_id: str) -> Sequence[Transfer]: ...

    async def rules(self, event_id: str) -> EventTransferRules | None: ...

    async def set_policy(self, event_id: str, policy: TransferPolicy) -> None: ...


@dataclass(frozen=True)
class OfferTransfer:
    ticket_id: str
    holder: str
    to_name: str
    to_email: str


@dataclass(frozen=True)
class Offered:
    transfer: Transfer
    accept_token: str


async def offer_transfer(
    repo: TransferRepository, command: OfferTransfer, *, now: datetime, valid_for: timedelta
) -> Offered:
    async with repo.transaction():
        ticket = await repo.transferable(command.ticket_id, lock=True)
        if ticket is None or ticket.ticket.user_id != command.holder:
            raise TicketNotFound("No such ticket.")
        refusal = refuse_transfer(ticket, now)
        if refusal is not None:
            raise refusal
        pending = await repo.open_offer(command.ticket_id)
        if pending is not None:
            if pending.standing(now) is TransferStatus.OFFERED:
                raise TransferAlreadyOffered(pending.id)
            await repo.close_offer(pending.id, TransferStatus.EXPIRED)
        token = new_accept_token()
        transfer = await repo.insert_offer(
            ticket,
            to_name=command.to_name,
            to_email=command.to_email,
            token_hash=token_digest(token),
            expires_at=offer_expiry(ticket, now, valid_for=valid_for),
        )
    return Offered(transfer, token)


async def accept_transfer(
    repo: TransferRepository, *, accept_token: str, receiver: str, now: datetime
) -> Ticket:
    found = await repo.offer_by_token(token_digest(accept_token))
    if found is None:
        raise TransferNotFound("No transfer with this token.")
    async with repo.transaction():
        ticket = await repo.transferable(found.ticket_id, lock=True)
        offer = await repo.offer_by_token(token_digest(accept_token))
        assert ticket is not None
        assert offer is not None
        standing = offer.standing(now)
        if standing is not TransferStatus.OFFERED:
            raise TransferNotOpen(standing)
        if ticket.ticket.user_id == receiver:
            raise TransferToSelf()
        refusal = refuse_transfer(ticket, now)
        if refusal is not None:
            raise refusal
        moved = await repo.hand_over(offer, to_user_id=receiver)
        # The receiver's e-ticket, with the new code and QR, goes to them alone.
        await repo.events.transferred(moved, at=now)
    return moved


async def withdraw_transfer(repo: TransferRepository, *, ticket_id: str, holder: str) -> Transfer:
    async with repo.transaction():
        ticket = await repo.transferable(ticket_id, lock=True)
        if ticket is None or ticket.ticket.user_id != holder:
            raise TicketNotFound("No such ticket.")
        pending = await repo.open_offer(ticket_id)
        if pending is None:
            raise TransferNotFound("This ticket has no open transfer offer.")
        return await repo.close_offer(pending.id, TransferStatus.WITHDRAWN)


async def transfer_trail(
    repo: TransferRepository, *, ticket_id: str, actor: Actor
) -> Sequence[Transfer]:
    """The current holder, the event's host and admins see every transfer of the ticket."""
    ticket = await repo.transferable(ticket_id)
    if ticket is None or not (
        actor.user_id == ticket.ticket.user_id or actor.runs(ticket.ticket.host_id)
    ):
        raise TicketNotFound("No such ticket.")
    return await repo.trail(ticket_id)


async def transfer_rules(repo: TransferRepository, *, event_id: str) -> EventTransferRules:
    rules = await repo.rules(event_id)
    if rules is None:
        raise EventNotFound("No ticketed event with this id.")
    return rules


async def set_transfer_policy(
    repo: TransferRepository, *, event_id: str, actor: Actor, policy: TransferPolicy
) -> EventTransferRules:
    async with repo.transaction():
        rules = await transfer_rules(repo, event_id=event_id)
        if not actor.runs(rules.host_id):
            raise NotEventHost("Only the event's host or an admin may set its transfer rules.")
        await repo.set_policy(event_id, policy)
    return EventTransferRules(event_id, rules.host_id, policy)
