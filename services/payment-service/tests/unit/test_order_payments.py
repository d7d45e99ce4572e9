"""Issue 14 in payment-service's domain: an order's tickets, and one refund key per ticket."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from payment_service.domain.errors import InvalidOrder
from payment_service.domain.model import PaymentStatus
from payment_service.domain.payment import Payment, order_tickets
from payment_service.service_layer.ticket_events import ticket_refund_purpose

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def a_payment(**changes: object) -> Payment:
    payment = Payment(
        order_id="TIX-1",
        amount=405_000,
        currency="IDR",
        user_id="user-1",
        ticket_id="t-1",
        event_id="e-1",
        customer={"name": "Siti", "email": "siti@example.id"},
        items=[],
        metadata={"event_title": "Jazz"},
        expires_at=NOW,
        snap_token=None,
        redirect_url=None,
        snap_token_expires_at=None,
        status=PaymentStatus.SETTLED,
        transaction_status="settlement",
        fraud_status=None,
        payment_type="gopay",
        transaction_id="trx-1",
        refunded_amount=0,
        settled_at=NOW,
        flagged_at=None,
        flag_reason=None,
        close_requested_at=None,
        created_at=NOW,
        updated_at=NOW,
    )
    return replace(payment, **changes)  # type: ignore[arg-type]


def test_an_order_without_ticket_ids_is_its_one_ticket() -> None:
    assert order_tickets("t-1", []) == ("t-1",)
    assert a_payment().tickets == ("t-1",)


def test_the_order_s_first_ticket_must_be_ticket_id_and_none_twice() -> None:
    assert order_tickets("t-1", ["t-1", "t-2"]) == ("t-1", "t-2")
    with pytest.raises(InvalidOrder):
        order_tickets("t-1", ["t-2", "t-1"])
    with pytest.raises(InvalidOrder):
        order_tickets("t-1", ["t-1", "t-2", "t-2"])


def test_each_ticket_of_an_order_is_its_own_refund_and_a_one_ticket_payment_keeps_its_key() -> None:
    order = a_payment(ticket_ids=("t-1", "t-2", "t-3"))
    purposes = {ticket_refund_purpose(order, t) for t in order.tickets}
    assert len(purposes) == 3
    assert ticket_refund_purpose(order, "t-2") == ticket_refund_purpose(order, "t-2")
    assert ticket_refund_purpose(a_payment(), "t-1") == "ticket-refund"


def test_every_payment_event_names_the_order_and_its_tickets() -> None:
    facts = a_payment(purchase_order_id="po-1", ticket_ids=("t-1", "t-2")).event_facts()
    assert (facts["purchase_order_id"], facts["ticket_ids"], facts["ticket_id"]) == (
        "po-1",
        ["t-1", "t-2"],
        "t-1",
    )
    assert a_payment().event_facts()["ticket_ids"] == ["t-1"]
