"""The transfer rules on plain values: who may hand a ticket on, until when, how often."""

from datetime import UTC, datetime, timedelta

from ticket_service.domain.door import AlreadyCheckedIn, DoorTicket
from ticket_service.domain.tickets import TicketStatus
from ticket_service.domain.transfers import (
    TicketNotTransferable,
    TransferableTicket,
    TransferDeadlinePassed,
    TransferLimitReached,
    TransferPolicy,
    TransfersNotAllowed,
    offer_expiry,
    refuse_transfer,
    token_digest,
)

NOW = datetime(2026, 12, 1, 3, tzinfo=UTC)
STARTS = NOW + timedelta(days=2)


def transferable(
    *, policy: TransferPolicy | None = None, count: int = 0, **ticket: object
) -> TransferableTicket:
    fields: dict[str, object] = {
        "id": "t-1",
        "event_id": "e-1",
        "user_id": "buyer-1",
        "host_id": "host-1",
        "status": TicketStatus.ACTIVE,
        "attendance_code": "A3F7",
        "is_checked_in": False,
        "checked_in_at": None,
        "price_paid": 50_000,
        "event_starts_at": STARTS,
        **ticket,
    }
    return TransferableTicket(
        ticket=DoorTicket(**fields),  # type: ignore[arg-type]
        holder_name="Siti",
        holder_email="siti@example.id",
        policy=policy or TransferPolicy(),
        transfer_count=count,
    )


def test_an_active_ticket_before_the_deadline_may_be_transferred() -> None:
    assert refuse_transfer(transferable(), NOW) is None


def test_refusals_name_the_rule_that_applies() -> None:
    assert isinstance(
        refuse_transfer(transferable(status=TicketStatus.PENDING), NOW), TicketNotTransferable
    )
    assert isinstance(
        refuse_transfer(transferable(is_checked_in=True, checked_in_at=NOW), NOW),
        AlreadyCheckedIn,
    )
    closed = TransferPolicy(allowed=False)
    assert isinstance(refuse_transfer(transferable(policy=closed), NOW), TransfersNotAllowed)
    assert isinstance(refuse_transfer(transferable(count=1), NOW), TransferLimitReached)


def test_the_deadline_is_the_hosts_or_the_event_start_whichever_comes_first() -> None:
    early = TransferPolicy(deadline=NOW - timedelta(seconds=1))
    assert isinstance(refuse_transfer(transferable(policy=early), NOW), TransferDeadlinePassed)
    late = TransferPolicy(deadline=STARTS + timedelta(days=1))
    assert isinstance(refuse_transfer(transferable(policy=late), STARTS), TransferDeadlinePassed)


def test_an_offer_never_outlives_the_deadline() -> None:
    soon = TransferPolicy(deadline=NOW + timedelta(hours=1))
    ticket = transferable(policy=soon)
    assert offer_expiry(ticket, NOW, valid_for=timedelta(hours=72)) == NOW + timedelta(hours=1)
    assert offer_expiry(transferable(), NOW, valid_for=timedelta(hours=3)) == NOW + timedelta(
        hours=3
    )


def test_only_a_digest_of_the_token_is_kept() -> None:
    assert token_digest("abc") != "abc" and len(token_digest("abc")) == 64
