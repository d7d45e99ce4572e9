"""Joining, reading and leaving a ticket type's waiting list (issue 16)."""

from dataclasses import dataclass
from typing import Protocol

from ticket_service.domain.errors import EventNotFound, NotEventHost
from ticket_service.domain.waitlist import (
    AlreadyWaiting,
    NewEntry,
    NoSuchLine,
    NotWaiting,
    Place,
    TypeOnSale,
    WaitlistEntry,
    check_quantity,
    check_sold_out,
)
from ticket_service.service_layer.ports import Transactional


class WaitlistRepository(Transactional, Protocol):
    async def lock_event(self, event_id: str) -> bool:
        """Lock the event's row (seats and lines change under it); False when there is none."""

    async def type_on_sale(self, event_id: str, ticket_type_id: str) -> TypeOnSale | None: ...

    async def add_entry(self, new: NewEntry) -> WaitlistEntry | None:
        """The new entry at the back of the line; None when the user already has a live one."""

    async def places_of(self, event_id: str, user_id: str) -> list[Place]:
        """The user's live entries at the event, oldest first, with position and open offer."""

    async def leave(self, event_id: str, user_id: str, ticket_type_id: str | None) -> int:
        """End the user's live entries (one type, or all); an open offer's seats are released."""

    async def host_of(self, event_id: str) -> str | None: ...

    async def set_offer_minutes(self, event_id: str, minutes: int) -> None: ...


@dataclass(frozen=True)
class JoinWaitlist:
    user_id: str
    event_id: str
    ticket_type_id: str
    quantity: int
    customer_name: str
    customer_email: str
    customer_phone: str | None = None


async def join_waitlist(repo: WaitlistRepository, cmd: JoinWaitlist) -> Place:
    async with repo.transaction():
        if not await repo.lock_event(cmd.event_id):
            raise EventNotFound("No ticketed event with this id.")
        type_ = await repo.type_on_sale(cmd.event_id, cmd.ticket_type_id)
        if type_ is None:
            raise NoSuchLine("The event has no ticket type with this id on sale.")
        check_quantity(type_, cmd.quantity)
        check_sold_out(type_, cmd.quantity)
        entry = await repo.add_entry(
            NewEntry(
                event_id=cmd.event_id,
                ticket_type_id=cmd.ticket_type_id,
                user_id=cmd.user_id,
                customer_name=cmd.customer_name,
                customer_email=cmd.customer_email,
                customer_phone=cmd.customer_phone,
                quantity=cmd.quantity,
            )
        )
        if entry is None:
            raise AlreadyWaiting("You are already on this ticket type's waiting list.")
        return _place_of(await repo.places_of(cmd.event_id, cmd.user_id), entry.ticket_type_id)


async def place_on_waitlist(
    repo: WaitlistRepository, *, event_id: str, user_id: str, ticket_type_id: str | None = None
) -> Place:
    return _place_of(await repo.places_of(event_id, user_id), ticket_type_id)


async def leave_waitlist(
    repo: WaitlistRepository, *, event_id: str, user_id: str, ticket_type_id: str | None = None
) -> None:
    async with repo.transaction():
        # The event lock orders this after any offer maker at work on the event, so an offer
        # it is making for this entry is withdrawn and its seats released, not left behind.
        if not await repo.lock_event(event_id):
            raise EventNotFound("No ticketed event with this id.")
        if await repo.leave(event_id, user_id, ticket_type_id) == 0:
            raise NotWaiting("You are not on this event's waiting list.")


async def set_offer_minutes(
    repo: WaitlistRepository,
    *,
    event_id: str,
    caller_id: str,
    caller_is_admin: bool,
    minutes: int,
) -> int:
    """The host sets how long an offer holds its seats; offers already made keep their time."""
    host_id = await repo.host_of(event_id)
    if host_id is None:
        raise EventNotFound("No ticketed event with this id.")
    if host_id != caller_id and not caller_is_admin:
        raise NotEventHost("Only the event's host or an admin may change its waiting list.")
    await repo.set_offer_minutes(event_id, minutes)
    return minutes


def _place_of(places: list[Place], ticket_type_id: str | None) -> Place:
    for place in places:
        if ticket_type_id is None or place.entry.ticket_type_id == ticket_type_id:
            return place
    raise NotWaiting("You are not on this event's waiting list.")
