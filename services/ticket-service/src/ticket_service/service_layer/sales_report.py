"""The host's sales report of an event, for the host and admins."""

from collections.abc import Sequence
from typing import Protocol

from ticket_service.domain.door import Actor
from ticket_service.domain.errors import EventNotFound, NotEventHost
from ticket_service.domain.sales import PromoCodeUse, SalesReport, SalesRow, SalesTotals


class SalesLedger(Protocol):
    async def event_host(self, event_id: str) -> str | None: ...

    async def rows(self, event_id: str) -> Sequence[SalesRow]: ...

    async def totals(self, event_id: str) -> SalesTotals: ...

    async def promo_code_uses(self, event_id: str) -> Sequence[PromoCodeUse]: ...


async def sales_report(ledger: SalesLedger, *, event_id: str, actor: Actor) -> SalesReport:
    host_id = await ledger.event_host(event_id)
    if host_id is None:
        raise EventNotFound("No ticketed event with this id.")
    if not actor.runs(host_id):
        raise NotEventHost("Only the event's host or an admin may read its sales.")
    return SalesReport(
        event_id=event_id,
        rows=tuple(await ledger.rows(event_id)),
        totals=await ledger.totals(event_id),
        promo_codes=tuple(await ledger.promo_code_uses(event_id)),
    )
