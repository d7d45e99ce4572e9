"""Rows of the door's tables to entities: check-in lists, a ticket as a gate sees it."""

from ticket_service.adapters.rows import Record
from ticket_service.domain.gates import CheckInList, GateTicket
from ticket_service.domain.tickets import TicketStatus


def stored_list(row: Record, *, event_id: str | None = None, prefix: str = "") -> CheckInList:
    types = row[f"{prefix}types" if prefix else "ticket_type_ids"]
    return CheckInList(
        event_id=event_id or row["event_id"],
        id=row[f"{prefix}id"],
        name=row[f"{prefix}name"],
        ticket_type_ids=frozenset(types) if types is not None else None,
        allow_reentry=row[f"{prefix}reentry" if prefix else "allow_reentry"],
        opens_at=row[f"{prefix}opens_at"],
        closes_at=row[f"{prefix}closes_at"],
    )


def gate_ticket(row: Record, *, prefix: str = "") -> GateTicket:
    def col(name: str, short: str) -> str:
        return f"{prefix}{short}" if prefix else name

    return GateTicket(
        id=str(row[col("id", "id")]),
        status=TicketStatus(row[col("status", "status")]),
        ticket_type_id=row[col("ticket_type_id", "type")],
        is_checked_in=row[col("is_checked_in", "checked_in")],
        is_inside=row[col("is_inside", "inside")],
        checked_in_at=row[col("checked_in_at", "checked_in_at")],
    )
