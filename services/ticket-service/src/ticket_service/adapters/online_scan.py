# ruff: noqa: S608 - the statement interpolates only the constant fragments in this module
"""The online check-in as one SQL statement: find, decide, admit, log and publish in one trip.

The conditional UPDATE is the decision: of any number of racing scanners exactly one matches
the row. A stranger's lookup (not the event's host, an admin, or the event's scanner) matches
no row at all, so it cannot tell an existing code from an unknown one.
"""

from typing import Any
from uuid import UUID

import asyncpg

from ticket_service.adapters import rows
from ticket_service.adapters.gate_rows import gate_ticket, stored_list
from ticket_service.adapters.repository import TICKET_VIEW
from ticket_service.domain.gates import CheckInList, Direction, default_list
from ticket_service.service_layer.check_in import GateScanOutcome

# The ticket as every answer shows it (repository.TICKET_VIEW), read from the updated row.
assert "FROM tickets t" in TICKET_VIEW
_ADMITTED_VIEW = TICKET_VIEW.replace("FROM tickets t", "FROM admitted t", 1)

# The outbox row of ticket.checked_in v3, built from the admitted row (see ticketing_contracts)
# and its view `v`: the view's order id is the order's payment (its one transaction, keyed by the
# first ticket), so every ticket of an order names it, as its other ticket.* events do.
_ENVELOPE = """jsonb_build_object(
    'event_id', $11::uuid, 'event_type', 'ticket.checked_in', 'version', 3,
    'occurred_at', now(), 'producer', $12::text, 'correlation_id', $13::text,
    'payload', jsonb_build_object(
        'ticket_id', a.id, 'event_id', a.event_id, 'user_id', a.user_id,
        'order_id', v.order_id, 'attendance_code', a.attendance_code,
        'holder_name', a.holder_name, 'holder_email', a.holder_email,
        'event_title', e.title, 'event_starts_at', e.starts_at, 'event_venue', e.venue,
        'host_id', e.host_id, 'checked_in_at', a.checked_in_at, 'checked_in_by', a.checked_in_by,
        'ticket_type_id', a.ticket_type_id, 'ticket_type_name', tt.name,
        'purchase_order_id', a.purchase_order_id, 'order_size', v.order_size,
        'list_id', $7::text, 'direction', $8::text, 'reentry', a.was_checked_in AND $8 = 'in',
        'scanned_at', now(), 'offline', false))"""

_SCAN_ONLINE = f"""
WITH target AS (
    SELECT t.id, t.event_id, t.ticket_type_id, t.attendance_code, t.status, t.is_checked_in,
           t.is_inside, t.checked_in_at
      FROM tickets t JOIN ticketed_events e ON e.event_id = t.event_id
     WHERE {{by}}
       AND ($5::boolean OR e.host_id = $4::text OR t.event_id = $6::text)
     LIMIT 50
), one AS (
    SELECT * FROM target WHERE (SELECT count(*) FROM target) = 1
), gate AS (
    SELECT l.id, l.name, l.ticket_type_ids, l.allow_reentry, l.opens_at, l.closes_at,
           true AS stored
      FROM check_in_lists l JOIN one ON l.event_id = one.event_id
     WHERE l.id = $7
    UNION ALL
    SELECT 'default', 'Default', NULL, false, NULL, NULL, false FROM one
     WHERE $7 = 'default' AND NOT EXISTS (
         SELECT 1 FROM check_in_lists l WHERE l.event_id = one.event_id AND l.id = 'default')
), admitted AS (
    UPDATE tickets t
       SET is_checked_in = true,
           checked_in_at = CASE WHEN t.is_checked_in THEN t.checked_in_at ELSE now() END,
           checked_in_by = CASE WHEN t.is_checked_in THEN t.checked_in_by ELSE $9 END,
           is_inside = ($8 = 'in'), updated_at = now()
      FROM one, gate
     WHERE t.id = one.id AND t.status = 'active' AND t.attendance_code = one.attendance_code
       AND (gate.ticket_type_ids IS NULL OR t.ticket_type_id = ANY (gate.ticket_type_ids))
       AND (gate.opens_at IS NULL OR gate.opens_at <= now())
       AND (gate.closes_at IS NULL OR now() < gate.closes_at)
       AND CASE WHEN $8 = 'in'
                THEN NOT t.is_inside AND (NOT t.is_checked_in OR gate.allow_reentry)
                ELSE t.is_inside END
       AND ($10::text IS NULL OR NOT EXISTS (
           SELECT 1 FROM check_in_nonces n WHERE n.scanner_id = $9 AND n.nonce = $10))
 RETURNING t.*, one.is_checked_in AS was_checked_in
), shown AS (
    {_ADMITTED_VIEW}
), claimed AS (
    INSERT INTO check_in_nonces (scanner_id, nonce, ticket_id)
    SELECT $9, $10, a.id FROM admitted a WHERE $10::text IS NOT NULL
    ON CONFLICT (scanner_id, nonce) DO NOTHING
), scanned AS (
    INSERT INTO scans (event_id, ticket_id, list_id, direction, scanned_at, scanned_by, result)
    SELECT a.event_id, a.id, $7, $8, now(), $9, 'accepted' FROM admitted a
), published AS (
    INSERT INTO outbox (event_id, event_type, body)
    SELECT $11::uuid, 'ticket.checked_in', {_ENVELOPE}
      FROM admitted a
      JOIN shown v ON v.id = a.id
      JOIN ticketed_events e ON e.event_id = a.event_id
      LEFT JOIN ticket_types tt ON tt.event_id = a.event_id AND tt.id = a.ticket_type_id
)
SELECT v.*,
       (SELECT count(*) FROM target) AS matches,
       (SELECT array_agg(event_id) FROM target) AS matched_event_ids,
       one.id AS one_id, one.event_id AS one_event_id, one.ticket_type_id AS one_type,
       one.attendance_code AS one_code, one.status AS one_status,
       one.is_checked_in AS one_checked_in, one.is_inside AS one_inside,
       one.checked_in_at AS one_checked_in_at,
       gate.id AS gate_id, gate.name AS gate_name, gate.ticket_type_ids AS gate_types,
       gate.allow_reentry AS gate_reentry, gate.opens_at AS gate_opens_at,
       gate.closes_at AS gate_closes_at, gate.stored AS gate_stored, now() AS scanned_at
  FROM (SELECT 1) AS anchor
  LEFT JOIN one ON true
  LEFT JOIN gate ON true
  LEFT JOIN shown v ON true
"""


# One statement per way of naming the ticket, each with plain conditions on an indexed column:
# a prepared statement's generic plan cannot use an index behind "$1 IS NULL OR t.id = $1".
_BY_ID = """t.id = $1 AND ($2::text IS NULL OR t.attendance_code = $2)
       AND ($3::text IS NULL OR t.event_id = $3)"""
_BY_CODE_AT_EVENT = "t.event_id = $3 AND t.attendance_code = $2 AND $1::uuid IS NULL"
_BY_CODE = "t.attendance_code = $2 AND $1::uuid IS NULL AND $3::text IS NULL"
SCAN_BY_ID = _SCAN_ONLINE.replace("{by}", _BY_ID)
SCAN_BY_CODE_AT_EVENT = _SCAN_ONLINE.replace("{by}", _BY_CODE_AT_EVENT)
SCAN_BY_CODE = _SCAN_ONLINE.replace("{by}", _BY_CODE)


async def scan_online(conn: asyncpg.Connection, args: tuple[Any, ...]) -> GateScanOutcome:
    ticket_id, _, event_id = args[:3]
    if ticket_id is not None:
        statement = SCAN_BY_ID
    else:
        statement = SCAN_BY_CODE_AT_EVENT if event_id is not None else SCAN_BY_CODE
    row = await conn.fetchrow(statement, *args)
    assert row is not None
    gate: CheckInList | None = None
    if row["gate_id"] is not None and row["gate_stored"]:
        gate = stored_list(row, event_id=row["one_event_id"], prefix="gate_")
    elif row["gate_id"] is not None:
        gate = default_list(row["one_event_id"])
    found = row["one_id"] is not None
    return GateScanOutcome(
        matches=row["matches"],
        matched_event_ids=list(row["matched_event_ids"] or []),
        ticket=gate_ticket(row, prefix="one_") if found else None,
        attendance_code=row["one_code"],
        gate=gate,
        admitted=rows.ticket(row) if row["id"] is not None else None,
        scanned_at=row["scanned_at"],
    )


def online_scan_args(
    *,
    ticket_id: str | None,
    attendance_code: str | None,
    event_id: str | None,
    host_id: str | None,
    is_admin: bool,
    scanner_event_id: str | None,
    list_id: str,
    direction: Direction,
    scanned_by: str,
    nonce: str | None,
    outbox_event_id: UUID,
    producer: str,
    correlation_id: str | None,
) -> tuple[Any, ...]:
    return (
        UUID(ticket_id) if ticket_id else None,
        attendance_code,
        event_id,
        host_id,
        is_admin,
        scanner_event_id,
        list_id,
        str(direction),
        scanned_by,
        nonce,
        outbox_event_id,
        producer,
        correlation_id,
    )
