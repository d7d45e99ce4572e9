"""The offline door's rules in memory: first scan wins, gates, and QR signatures (issue 15)."""

from datetime import UTC, datetime, timedelta

import pytest
from ticket_service.domain.gates import (
    CheckInList,
    Direction,
    GateTicket,
    ScanRefusal,
    default_list,
    gate_refusal,
)
from ticket_service.domain.offline_qr import new_key_pair, sign_offline_qr, verify_offline_qr
from ticket_service.domain.offline_scans import RecordedScan, replay
from ticket_service.domain.qr_codes import InvalidQrCode
from ticket_service.domain.tickets import TicketStatus

T0 = datetime(2026, 12, 20, 18, tzinfo=UTC)
DEFAULT = default_list("e-1")
WRISTBAND = CheckInList(
    event_id="e-1",
    id="wristband",
    name="Wristband",
    ticket_type_ids=frozenset({"festival"}),
    allow_reentry=True,
    opens_at=T0,
    closes_at=T0 + timedelta(hours=6),
)
GATES = {"default": DEFAULT, "wristband": WRISTBAND}


def scan(
    minute: int, direction: str = "in", list_id: str = "default", **kw: object
) -> RecordedScan:
    return RecordedScan(
        nonce=f"n{minute}",
        ticket_id="t-1",
        list_id=list_id,
        direction=Direction(direction),
        scanned_at=T0 + timedelta(minutes=minute),
        scanned_by=str(kw.get("by", "gate-a")),
        result="pending",
    )


def test_the_earliest_entry_wins_whatever_order_the_scans_came_in() -> None:
    decided, admission = replay([scan(9), scan(3, by="gate-b"), scan(5)], GATES)
    results = {s.nonce: s.result for s in decided}
    assert results == {"n3": "accepted", "n5": "duplicate", "n9": "duplicate"}
    assert admission.checked_in_at == T0 + timedelta(minutes=3)
    assert admission.checked_in_by == "gate-b"
    assert admission.is_inside


def test_re_entry_after_an_exit_only_where_the_gate_allows_it() -> None:
    scans = [
        scan(1),
        scan(2, "out"),
        scan(3),  # the default gate has no re-entry
        scan(4, "out", "wristband"),  # nobody inside to let out
        scan(5, "in", "wristband"),  # the wristband gate lets the holder back in
    ]
    decided, admission = replay(scans, GATES)
    results = [s.result for s in decided]
    assert results == ["accepted", "accepted", "duplicate", "refused", "accepted"]
    assert admission.is_inside
    assert admission.checked_in_at == T0 + timedelta(minutes=1)


def test_a_gate_refuses_another_type_out_of_hours_and_a_cancelled_ticket() -> None:
    vip = GateTicket("t-1", TicketStatus.ACTIVE, "vip", False, False, None)
    festival = GateTicket("t-2", TicketStatus.ACTIVE, "festival", False, False, None)
    cancelled = GateTicket("t-3", TicketStatus.CANCELLED, "festival", False, False, None)
    inside_hours = T0 + timedelta(hours=1)
    assert gate_refusal(vip, WRISTBAND, inside_hours) == ScanRefusal.WRONG_LIST
    assert gate_refusal(festival, WRISTBAND, T0 - timedelta(minutes=1)) == ScanRefusal.LIST_CLOSED
    assert gate_refusal(cancelled, WRISTBAND, inside_hours) == ScanRefusal.CANCELLED
    assert gate_refusal(festival, WRISTBAND, inside_hours) is None
    assert gate_refusal(vip, DEFAULT, inside_hours) is None


def test_an_offline_qr_verifies_with_the_public_key_alone_and_nothing_else_does() -> None:
    pair, other = new_key_pair(), new_key_pair()
    fields = {"event_id": "e-1", "ticket_id": "t-1", "attendance_code": "K7P3"}
    qr = sign_offline_qr(**fields, ticket_type_id="vip", key_id="k1", private_key=pair.private_key)
    claims = verify_offline_qr(qr, {"k1": pair.public_key})
    assert (claims.ticket_id, claims.ticket_type_id, claims.event_id) == ("t-1", "vip", "e-1")
    resigned = sign_offline_qr(
        **fields, ticket_type_id="vip", key_id="k1", private_key=other.private_key
    )
    for bad in (resigned, qr.replace("K7P3", "K7P4"), qr.replace(".vip.", ".-."), "TKT2.x"):
        with pytest.raises(InvalidQrCode):
            verify_offline_qr(bad, {"k1": pair.public_key})
