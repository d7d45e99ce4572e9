"""SQL for the host's live count (scans_by_event and tickets_by_event serve it)."""

import asyncpg

from ticket_service.adapters.gates_repository import SqlGates
from ticket_service.service_layer.door_stats import AdmittedCount, DoorStats, ScanLine


class SqlDoorStats(SqlGates):
    def __init__(self, conn: asyncpg.Connection) -> None:
        super().__init__(conn)

    async def door_stats(self, event_id: str, *, last: int) -> DoorStats:
        totals = await self.conn.fetchrow(
            """SELECT count(*) FILTER (WHERE is_checked_in) AS admitted,
                      count(*) FILTER (WHERE is_inside) AS inside
                 FROM tickets WHERE event_id = $1 AND status = 'active'""",
            event_id,
        )
        assert totals is not None
        groups = await self.conn.fetch(
            """SELECT s.list_id, t.ticket_type_id, count(DISTINCT s.ticket_id) AS admitted
                 FROM scans s JOIN tickets t ON t.id = s.ticket_id
                WHERE s.event_id = $1 AND s.result = 'accepted' AND s.direction = 'in'
                GROUP BY s.list_id, t.ticket_type_id
                ORDER BY s.list_id, t.ticket_type_id""",
            event_id,
        )
        flagged = await self.conn.fetchval(
            "SELECT count(*) FROM scans WHERE event_id = $1 AND flagged", event_id
        )
        lines = await self.conn.fetch(
            """SELECT s.ticket_id, t.holder_name, t.ticket_type_id, s.list_id, s.direction,
                      s.result, s.reason, s.flagged, s.offline, s.scanned_at, s.scanned_by
                 FROM scans s LEFT JOIN tickets t ON t.id = s.ticket_id
                WHERE s.event_id = $1 ORDER BY s.id DESC LIMIT $2""",
            event_id,
            last,
        )
        return DoorStats(
            admitted=totals["admitted"],
            inside=totals["inside"],
            flagged=int(flagged),
            by_list_and_type=[
                AdmittedCount(g["list_id"], g["ticket_type_id"], g["admitted"]) for g in groups
            ],
            last_scans=[
                ScanLine(
                    ticket_id=str(r["ticket_id"]) if r["ticket_id"] else None,
                    holder_name=r["holder_name"],
                    ticket_type_id=r["ticket_type_id"],
                    list_id=r["list_id"],
                    direction=r["direction"],
                    result=r["result"],
                    reason=r["reason"],
                    flagged=r["flagged"],
                    offline=r["offline"],
                    scanned_at=r["scanned_at"],
                    scanned_by=r["scanned_by"],
                )
                for r in lines
            ],
        )
