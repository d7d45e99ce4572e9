"""A host sets up the sale: ticket types, quotas that may overlap, and promo codes."""

from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from ticket_service.domain.door import Actor
from ticket_service.domain.entities import TicketedEvent
from ticket_service.domain.errors import CapacityBelowTaken, EventNotFound, NotEventHost
from ticket_service.domain.orders import (
    InvalidSaleSetup,
    PromoCode,
    PromoCodeTerms,
    Quota,
    TicketType,
    TicketTypeTerms,
    normalise_promo_code,
)
from ticket_service.service_layer.ports import Transactional


class SaleSetupRepository(Transactional, Protocol):
    """Every write runs under the event's row lock (the hold's first lock too)."""

    async def lock_event(self, event_id: str) -> TicketedEvent | None: ...

    async def ticket_type(self, event_id: str, type_id: str) -> TicketType | None: ...

    async def ticket_types(self, event_id: str) -> list[TicketType]: ...

    async def put_ticket_type(
        self, event_id: str, type_id: str, terms: TicketTypeTerms
    ) -> TicketType: ...

    async def seats_taken(self, event_id: str, type_ids: tuple[str, ...]) -> tuple[int, int]:
        """(sold, held) of the tickets of these types."""

    async def quota(self, event_id: str, quota_id: str) -> Quota | None: ...

    async def put_quota(
        self, event_id: str, quota_id: str, *, name: str, size: int, type_ids: tuple[str, ...]
    ) -> Quota:
        """Write the quota and its types; its counters are recounted from those types."""

    async def promo_code(self, event_id: str, code: str) -> PromoCode | None: ...

    async def put_promo_code(
        self, event_id: str, code: str, terms: PromoCodeTerms
    ) -> PromoCode: ...


T = TypeVar("T")


@dataclass(frozen=True)
class Put(Generic[T]):
    value: T
    created: bool


async def _run_event(repo: SaleSetupRepository, event_id: str, actor: Actor) -> TicketedEvent:
    event = await repo.lock_event(event_id)
    if event is None:
        raise EventNotFound("No ticketed event with this id.")
    if not actor.runs(event.host_id):
        raise NotEventHost("Only the event's host or an admin can set up its sale.")
    return event


async def _check_types_exist(
    repo: SaleSetupRepository, event_id: str, type_ids: tuple[str, ...]
) -> None:
    known = {kind.id for kind in await repo.ticket_types(event_id)}
    unknown = sorted(set(type_ids) - known)
    if unknown:
        raise InvalidSaleSetup(
            "No such ticket type at this event.", details={"ticket_type_ids": unknown}
        )


async def put_ticket_type(
    repo: SaleSetupRepository, *, event_id: str, type_id: str, terms: TicketTypeTerms, actor: Actor
) -> Put[TicketType]:
    """Create or change a type; its capacity never drops below what it sold and holds."""
    if terms.sales_start and terms.sales_end and terms.sales_start >= terms.sales_end:
        raise InvalidSaleSetup("sales_start must be before sales_end.")
    async with repo.transaction():
        await _run_event(repo, event_id, actor)
        existing = await repo.ticket_type(event_id, type_id)
        if existing is not None and terms.capacity is not None:
            taken = existing.sold + existing.held
            if terms.capacity < taken:
                raise CapacityBelowTaken(
                    f"Capacity cannot go below the {taken} tickets of this type sold or held.",
                    details={"sold": existing.sold, "held": existing.held},
                )
        return Put(await repo.put_ticket_type(event_id, type_id, terms), existing is None)


async def put_quota(
    repo: SaleSetupRepository,
    *,
    event_id: str,
    quota_id: str,
    name: str,
    size: int,
    type_ids: tuple[str, ...],
    actor: Actor,
) -> Put[Quota]:
    """A quota counts every ticket of its types; it cannot start below what they took."""
    async with repo.transaction():
        await _run_event(repo, event_id, actor)
        await _check_types_exist(repo, event_id, type_ids)
        sold, held = await repo.seats_taken(event_id, type_ids)
        if size < sold + held:
            raise CapacityBelowTaken(
                f"The quota cannot be below the {sold + held} tickets of its types sold or held.",
                details={"sold": sold, "held": held},
            )
        existing = await repo.quota(event_id, quota_id)
        quota = await repo.put_quota(event_id, quota_id, name=name, size=size, type_ids=type_ids)
        return Put(quota, existing is None)


async def put_promo_code(
    repo: SaleSetupRepository, *, event_id: str, code: str, terms: PromoCodeTerms, actor: Actor
) -> Put[PromoCode]:
    if (terms.percent_off is None) == (terms.amount_off is None):
        raise InvalidSaleSetup("Send exactly one of percent_off and amount_off.")
    if terms.valid_from and terms.valid_until and terms.valid_from >= terms.valid_until:
        raise InvalidSaleSetup("valid_from must be before valid_until.")
    canonical = normalise_promo_code(code)
    async with repo.transaction():
        await _run_event(repo, event_id, actor)
        await _check_types_exist(repo, event_id, terms.ticket_type_ids)
        existing = await repo.promo_code(event_id, canonical)
        if existing and terms.max_uses is not None and terms.max_uses < existing.uses:
            raise CapacityBelowTaken(
                f"max_uses cannot go below the {existing.uses} uses already taken.",
                details={"uses": existing.uses},
            )
        promo = await repo.put_promo_code(event_id, canonical, terms)
        return Put(promo, existing is None)
