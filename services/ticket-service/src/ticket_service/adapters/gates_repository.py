"""SQL for check-in lists."""

from collections.abc import Sequence

import asyncpg

from ticket_service.adapters import repository
from ticket_service.adapters.gate_rows import stored_list
from ticket_service.domain.gates import CheckInList, GateTerms

LIST_COLUMNS = "event_id, id, name, ticket_type_ids, allow_reentry, opens_at, closes_at"


class SqlGates:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def event_host(self, event_id: str) -> str | None:
        return await repository.event_host(self.conn, event_id)

    async def put_list(self, event_id: str, list_id: str, terms: GateTerms) -> CheckInList:
        types = sorted(terms.ticket_type_ids) if terms.ticket_type_ids is not None else None
        row = await self.conn.fetchrow(
            f"""INSERT INTO check_in_lists (event_id, id, name, ticket_type_ids, allow_reentry,
                                            opens_at, closes_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (event_id, id) DO UPDATE
                   SET name = EXCLUDED.name, ticket_type_ids = EXCLUDED.ticket_type_ids,
                       allow_reentry = EXCLUDED.allow_reentry, opens_at = EXCLUDED.opens_at,
                       closes_at = EXCLUDED.closes_at, updated_at = now()
                RETURNING {LIST_COLUMNS}""",  # noqa: S608 - a constant column list
            event_id,
            list_id,
            terms.name,
            types,
            terms.allow_reentry,
            terms.opens_at,
            terms.closes_at,
        )
        assert row is not None
        return stored_list(row)

    async def lists(self, event_id: str) -> Sequence[CheckInList]:
        found = await self.conn.fetch(
            f"SELECT {LIST_COLUMNS} FROM check_in_lists WHERE event_id = $1 ORDER BY id",  # noqa: S608
            event_id,
        )
        return [stored_list(row) for row in found]

    async def known_types(self, event_id: str, type_ids: Sequence[str]) -> set[str]:
        found = await self.conn.fetch(
            "SELECT id FROM ticket_types WHERE event_id = $1 AND id = ANY ($2::text[])",
            event_id,
            list(type_ids),
        )
        return {row["id"] for row in found}
