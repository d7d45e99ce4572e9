"""The transfer use cases on an in-memory repository: offer, accept once, withdraw, expire."""

import copy
import dataclasses
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import pytest
from fakes import NOW, FakeTicketEvents, a_ticket
from ticket_service.domain.door import DoorTicket
from ticket_service.domain.entities import Ticket
from ticket_service.domain.errors import TicketNotFound
from ticket_service.domain.tickets import TicketStatus
from ticket_service.domain.transfers import (
    Transfer,
    TransferableTicket,
    TransferAlreadyOffered,
    TransferNotOpen,
    TransferPolicy,
    TransferStatus,
    TransferToSelf,
)
from ticket_service.service_layer.transfers import (
    EventTransferRules,
    OfferTransfer,
    accept_transfer,
    offer_transfer,
    withdraw_transfer,
)

HOURS = timedelta(hours=72)


class FakeTransfers:
    def __init__(self, ticket: Ticket) -> None:
        self.tickets = {ticket.id: ticket}
        self.offers: dict[str, tuple[Transfer, str]] = {}  # id -> (transfer, token hash)
        self.counts = {ticket.id: 0}
        self.events = FakeTicketEvents()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        saved = copy.deepcopy((self.tickets, self.offers, self.counts))
        try:
            yield
        except BaseException:
            self.tickets, self.offers, self.counts = saved
            raise

    async def transferable(
        self, ticket_id: str, *, lock: bool = False
    ) -> TransferableTicket | None:
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            return None
        return TransferableTicket(
            ticket=DoorTicket.of(ticket),
            holder_name=ticket.holder_name,
            holder_email=ticket.holder_email,
            policy=TransferPolicy(max_transfers_per_ticket=2),
            transfer_count=self.counts[ticket_id],
        )

    async def open_offer(self, ticket_id: str) -> Transfer | None:
        return next(
            (t for t, _ in self.offers.values() if t.status is TransferStatus.OFFERED), None
        )

    async def offer_by_token(self, token_hash: str) -> Transfer | None:
        return next((t for t, h in self.offers.values() if h == token_hash), None)

    async def insert_offer(
        self,
        ticket: TransferableTicket,
        *,
        to_name: str,
        to_email: str,
        token_hash: str,
        expires_at: datetime,
    ) -> Transfer:
        transfer = Transfer(
            id=f"tr-{len(self.offers)}",
            ticket_id=ticket.ticket.id,
            event_id=ticket.ticket.event_id,
            from_user_id=ticket.ticket.user_id,
            from_name=ticket.holder_name,
            from_email=ticket.holder_email,
            to_name=to_name,
            to_email=to_email,
            to_user_id=None,
            status=TransferStatus.OFFERED,
            expires_at=expires_at,
            created_at=NOW,
            accepted_at=None,
            withdrawn_at=None,
        )
        self.offers[transfer.id] = (transfer, token_hash)
        return transfer

    async def close_offer(self, transfer_id: str, status: TransferStatus) -> Transfer:
        transfer, digest = self.offers[transfer_id]
        closed = dataclasses.replace(transfer, status=status)
        self.offers[transfer_id] = (closed, digest)
        return closed

    async def hand_over(self, transfer: Transfer, *, to_user_id: str) -> Ticket:
        ticket = self.tickets[transfer.ticket_id]
        moved = dataclasses.replace(
            ticket, user_id=to_user_id, holder_name=transfer.to_name, attendance_code="Z9Z9"
        )
        self.tickets[ticket.id] = moved
        self.counts[ticket.id] += 1
        await self.close_offer(transfer.id, TransferStatus.ACCEPTED)
        return moved

    async def trail(self, ticket_id: str) -> Sequence[Transfer]:
        return [t for t, _ in self.offers.values()]

    async def rules(self, event_id: str) -> EventTransferRules | None:
        return None

    async def set_policy(self, event_id: str, policy: TransferPolicy) -> None:
        return None


def active_ticket() -> Ticket:
    return a_ticket("t-1", status=TicketStatus.ACTIVE, activated_at=NOW, hold_expires_at=None)


async def test_accepting_moves_the_ticket_with_a_new_code_and_announces_it() -> None:
    repo = FakeTransfers(active_ticket())
    offered = await offer_transfer(
        repo, OfferTransfer("t-1", "user-7", "Budi", "budi@example.id"), now=NOW, valid_for=HOURS
    )
    moved = await accept_transfer(
        repo, accept_token=offered.accept_token, receiver="user-9", now=NOW
    )
    assert (moved.user_id, moved.attendance_code) == ("user-9", "Z9Z9")
    assert repo.events.emitted == [("ticket.activated", "t-1")]
    with pytest.raises(TransferNotOpen):
        await accept_transfer(repo, accept_token=offered.accept_token, receiver="user-8", now=NOW)


async def test_only_the_holder_offers_and_never_to_themselves() -> None:
    repo = FakeTransfers(active_ticket())
    with pytest.raises(TicketNotFound):
        await offer_transfer(
            repo, OfferTransfer("t-1", "user-8", "B", "b@example.id"), now=NOW, valid_for=HOURS
        )
    offered = await offer_transfer(
        repo, OfferTransfer("t-1", "user-7", "B", "b@example.id"), now=NOW, valid_for=HOURS
    )
    with pytest.raises(TransferToSelf):
        await accept_transfer(repo, accept_token=offered.accept_token, receiver="user-7", now=NOW)


async def test_one_open_offer_at_a_time_until_withdrawn_or_expired() -> None:
    repo = FakeTransfers(active_ticket())
    command = OfferTransfer("t-1", "user-7", "B", "b@example.id")
    first = await offer_transfer(repo, command, now=NOW, valid_for=HOURS)
    with pytest.raises(TransferAlreadyOffered):
        await offer_transfer(repo, command, now=NOW, valid_for=HOURS)
    await withdraw_transfer(repo, ticket_id="t-1", holder="user-7")
    second = await offer_transfer(repo, command, now=NOW, valid_for=timedelta(minutes=5))
    # Once the second offer has expired, a third may be made; the expired one cannot be used.
    later = NOW + timedelta(minutes=10)
    third = await offer_transfer(repo, command, now=later, valid_for=HOURS)
    with pytest.raises(TransferNotOpen):
        await accept_transfer(repo, accept_token=second.accept_token, receiver="u-2", now=later)
    with pytest.raises(TransferNotOpen):
        await accept_transfer(repo, accept_token=first.accept_token, receiver="u-2", now=later)
    moved = await accept_transfer(repo, accept_token=third.accept_token, receiver="u-3", now=later)
    assert moved.user_id == "u-3"
