"""SQL for offline scanners' uploads: a batch in a constant number of statements."""

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

import asyncpg
from servicekit.correlation import current_correlation_id
from servicekit.messaging import Outbox
from ticketing_contracts import TicketCheckedInV3, new_event

from ticket_service.adapters import gate_rows, rows
from ticket_service.adapters.gates_repository import LIST_COLUMNS
from ticket_service.adapters.repository import TICKET_VIEW
from ticket_service.domain.gates import (
    DEFAULT_LIST_ID,
    CheckInList,
    Direction,
    GateTicket,
    default_list,
)
from ticket_service.domain.offline_scans import Admission, RecordedScan

SCAN_COLUMNS = """id, nonce, ticket_id, list_id, direction, scanned_at, scanned_by, result, reason,
    flagged"""


def _ids(values: Sequence[str]) -> list[UUID]:
    found = []
    for value in values:
        try:
            found.append(UUID(value))
        except ValueError:
            continue
    return found


def _scan(row: Any) -> RecordedScan:
    return RecordedScan(
        id=row["id"],
        nonce=row["nonce"],
        ticket_id=str(row["ticket_id"]) if row["ticket_id"] else None,
        list_id=row["list_id"],
        direction=Direction(row["direction"]),
        scanned_at=row["scanned_at"],
        scanned_by=row["scanned_by"],
        result=row["result"],
        reason=row["reason"],
        flagged=row["flagged"],
    )


class SqlOfflineDoor:
    def __init__(self, conn: asyncpg.Connection, outbox: Outbox) -> None:
        self.conn = conn
        self.outbox = outbox

    def transaction(self) -> Any:
        return self.conn.transaction()

    async def hold_scanner(self, scanner_id: str) -> bool:
        held = await self.conn.fetchval(
            """UPDATE scanners SET last_synced_at = now(), last_seen_at = now()
                WHERE id = $1 AND revoked_at IS NULL RETURNING true""",
            UUID(scanner_id),
        )
        return bool(held)

    async def lock_tickets(
        self, event_id: str, ticket_ids: Sequence[str], codes: Sequence[str]
    ) -> tuple[dict[str, GateTicket], dict[str, str]]:
        found = await self.conn.fetch(
            """SELECT id, attendance_code, status, ticket_type_id, is_checked_in, is_inside,
                      checked_in_at
                 FROM tickets
                WHERE event_id = $1 AND (id = ANY ($2::uuid[]) OR attendance_code = ANY ($3))
                ORDER BY id FOR UPDATE""",
            event_id,
            _ids(ticket_ids),
            list(codes),
        )
        tickets = {str(r["id"]): gate_rows.gate_ticket(r) for r in found}
        return tickets, {r["attendance_code"]: str(r["id"]) for r in found}

    async def gates(self, event_id: str) -> Mapping[str, CheckInList]:
        found = await self.conn.fetch(
            f"SELECT {LIST_COLUMNS} FROM check_in_lists WHERE event_id = $1",  # noqa: S608
            event_id,
        )
        gates = {DEFAULT_LIST_ID: default_list(event_id)}
        gates.update({r["id"]: gate_rows.stored_list(r) for r in found})
        return gates

    async def known_scans(self, scanned_by: str, nonces: Sequence[str]) -> list[RecordedScan]:
        found = await self.conn.fetch(
            f"SELECT {SCAN_COLUMNS} FROM scans WHERE scanned_by = $1 AND nonce = ANY ($2)",  # noqa: S608
            scanned_by,
            list(nonces),
        )
        return [_scan(r) for r in found]

    async def counted_scans(self, ticket_ids: Sequence[str]) -> list[RecordedScan]:
        found = await self.conn.fetch(
            f"""SELECT {SCAN_COLUMNS} FROM scans
                 WHERE ticket_id = ANY ($1::uuid[]) AND result <> 'refused'""",  # noqa: S608
            _ids(ticket_ids),
        )
        return [_scan(r) for r in found]

    async def record(
        self,
        *,
        event_id: str,
        new: Sequence[RecordedScan],
        changed: Sequence[RecordedScan],
        admissions: Mapping[str, Admission],
        publish: Sequence[RecordedScan],
    ) -> None:
        await self.conn.execute(
            """INSERT INTO scans (event_id, ticket_id, list_id, direction, scanned_at, scanned_by,
                                  nonce, offline, result, reason, flagged)
               SELECT $1, t, l, d, s, b, n, true, r, why, f FROM unnest(
                   $2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[],
                   $8::text[], $9::text[], $10::boolean[]) AS u(t, l, d, s, b, n, r, why, f)
               ON CONFLICT DO NOTHING""",
            event_id,
            [UUID(s.ticket_id) if s.ticket_id else None for s in new],
            [s.list_id for s in new],
            [str(s.direction) for s in new],
            [s.scanned_at for s in new],
            [s.scanned_by for s in new],
            [s.nonce for s in new],
            [s.result for s in new],
            [s.reason for s in new],
            [s.flagged for s in new],
        )
        if changed:
            await self.conn.execute(
                """UPDATE scans SET result = u.r, reason = u.why
                     FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(id, r, why)
                    WHERE scans.id = u.id""",
                [s.id for s in changed],
                [s.result for s in changed],
                [s.reason for s in changed],
            )
        if admissions:
            items = list(admissions.items())
            await self.conn.execute(
                """UPDATE tickets t
                      SET is_checked_in = u.at IS NOT NULL, checked_in_at = u.at,
                          checked_in_by = u.by, is_inside = u.inside, updated_at = now()
                     FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::boolean[])
                          AS u(id, at, by, inside)
                    WHERE t.id = u.id""",
                [UUID(t) for t, _ in items],
                [a.checked_in_at for _, a in items],
                [a.checked_in_by for _, a in items],
                [a.is_inside for _, a in items],
            )
        if publish:
            await self._publish(publish)

    async def _publish(self, scans: Sequence[RecordedScan]) -> None:
        """ticket.checked_in v3 for every accepted scan of the batch (the host's live count).

        The view names the order's payment (`order_id`) for every ticket of an order."""
        found = await self.conn.fetch(
            TICKET_VIEW + " WHERE t.id = ANY ($1::uuid[])",
            [UUID(s.ticket_id) for s in scans if s.ticket_id],
        )
        views = {ticket.id: ticket for ticket in rows.tickets(found)}
        first_entry: set[str] = set()
        envelopes = []
        for scan in sorted(scans, key=lambda s: s.scanned_at):
            ticket = views[scan.ticket_id or ""]
            reentry = scan.direction == Direction.IN and (
                scan.ticket_id in first_entry or ticket.checked_in_at != scan.scanned_at
            )
            first_entry.add(scan.ticket_id or "")
            payload = TicketCheckedInV3(
                ticket_id=ticket.id,
                event_id=ticket.event_id,
                user_id=ticket.user_id,
                order_id=ticket.order_id,
                attendance_code=ticket.attendance_code,
                holder_name=ticket.holder_name,
                holder_email=ticket.holder_email,
                event_title=ticket.event.title,
                event_starts_at=ticket.event.starts_at,
                event_venue=ticket.event.venue,
                host_id=ticket.event.host_id,
                checked_in_at=ticket.checked_in_at or scan.scanned_at,
                checked_in_by=ticket.checked_in_by or scan.scanned_by,
                ticket_type_id=ticket.ticket_type_id,
                ticket_type_name=ticket.ticket_type_name,
                purchase_order_id=ticket.purchase_order_id,
                order_size=ticket.order_size,
                list_id=scan.list_id,
                direction=scan.direction.value,
                reentry=reentry,
                scanned_at=scan.scanned_at,
                offline=True,
            )
            envelope = new_event(
                payload, producer=self.outbox.producer, correlation_id=current_correlation_id()
            )
            envelopes.append(
                (envelope.event_id, envelope.event_type, envelope.model_dump(mode="json"))
            )
        await self.conn.executemany(
            "INSERT INTO outbox (event_id, event_type, body) VALUES ($1, $2, $3)", envelopes
        )
