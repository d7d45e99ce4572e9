"""Turning payment events into ticket states, exactly once.

Each handler runs inside the inbox transaction (servicekit), so a redelivered event id has no
second effect; a *different* event about the same order (a duplicate notification upstream) is
harmless too, because every move is checked against the ticket's current state, which is locked
(`FOR UPDATE`) for the whole handler.
"""

import logging
from datetime import UTC, datetime
from typing import Any

import asyncpg
from servicekit.logs import log_fields
from servicekit.messaging import Outbox
from ticketing_contracts import EventEnvelope, PaymentFailed, PaymentRefunded, PaymentSettled

from ticket_service.adapters import repository as repo
from ticket_service.domain.qr_codes import SigningKeys
from ticket_service.domain.tickets import TicketStatus, TransactionStatus, check_move
from ticket_service.service_layer import ticket_events

logger = logging.getLogger(__name__)

LATE_PAYMENT_SOLD_OUT = "late_payment_sold_out"
REVERSALS = frozenset({"deny", "cancel"})


class PaymentOutcomes:
    """The handlers of payment.settled / payment.failed / payment.refunded."""

    def __init__(self, outbox: Outbox, signing_keys: SigningKeys) -> None:
        self._outbox = outbox
        self._keys = signing_keys

    async def _locked(self, conn: asyncpg.Connection, order_id: str) -> repo.Row | None:
        row = await repo.lock_ticket_by_order(conn, order_id)
        if row is None:
            # Not ours (another product's order) or from before a data reset: nothing to move.
            logger.warning(
                "payment event for an unknown order", extra=log_fields(order_id=order_id)
            )
        return row

    async def _move(
        self,
        conn: asyncpg.Connection,
        row: repo.Row,
        target: TicketStatus,
        *,
        now: datetime,
        cancelled_by: str | None = None,
        cancel_reason: str | None = None,
    ) -> None:
        check_move(TicketStatus(row["ticket_status"]), target)
        await repo.set_ticket_status(
            conn,
            row["ticket_id"],
            target,
            now=now,
            cancelled_by=cancelled_by,
            cancel_reason=cancel_reason,
        )

    async def _view(self, conn: asyncpg.Connection, row: repo.Row) -> repo.Row:
        view = await repo.ticket_view(conn, row["ticket_id"])
        assert view is not None
        return view

    async def on_settled(self, conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        paid = PaymentSettled.model_validate(envelope.payload)
        row = await self._locked(conn, paid.order_id)
        if row is None:
            return
        now = datetime.now(UTC)
        status = TicketStatus(row["ticket_status"])
        fields = log_fields(order_id=paid.order_id, ticket_id=str(row["ticket_id"]))
        if paid.amount != row["amount"]:
            logger.error("settled amount differs from the order's", extra=fields)
        report = {"settled": _settlement_report(paid)}
        if status is TicketStatus.PENDING:
            await repo.move_seats(conn, row["event_id"], sold=1, held=-1)
            await self._activate(conn, row, paid, now, report)
        elif status is TicketStatus.EXPIRED:
            if await repo.take_free_seat(conn, row["event_id"]):
                logger.info("late payment took a free seat back", extra=fields)
                await self._activate(conn, row, paid, now, report)
            else:
                logger.warning("late payment, event sold out: refund requested", extra=fields)
                await self._move(
                    conn,
                    row,
                    TicketStatus.CANCELLED,
                    now=now,
                    cancelled_by="system",
                    cancel_reason=LATE_PAYMENT_SOLD_OUT,
                )
                view = await self._view(conn, row)
                await ticket_events.ticket_cancelled(
                    conn, self._outbox, view, at=now, by="system", reason=LATE_PAYMENT_SOLD_OUT
                )
                await self._request_refund(conn, row, view, paid, now, report)
        elif status is TicketStatus.CANCELLED and row["refund_requested_at"] is None:
            # Paid for a ticket cancelled meanwhile (by its holder, the host, or a failure).
            view = await self._view(conn, row)
            await self._request_refund(conn, row, view, paid, now, report)
        else:
            logger.info("payment.settled changes nothing for a %s ticket", status, extra=fields)

    async def _activate(
        self,
        conn: asyncpg.Connection,
        row: repo.Row,
        paid: PaymentSettled,
        now: datetime,
        report: dict[str, Any],
    ) -> None:
        await self._move(conn, row, TicketStatus.ACTIVE, now=now)
        await repo.set_transaction_status(
            conn,
            row["transaction_id"],
            TransactionStatus.COMPLETED,
            now=now,
            completed_at=paid.settled_at,
            payment_method=paid.payment_type,
            payment_gateway_id=paid.transaction_id,
            gateway_report=report,
        )
        view = await self._view(conn, row)
        await ticket_events.ticket_activated(conn, self._outbox, view, self._keys, now)

    async def _request_refund(
        self,
        conn: asyncpg.Connection,
        row: repo.Row,
        view: repo.Row,
        paid: PaymentSettled,
        now: datetime,
        report: dict[str, Any],
    ) -> None:
        await repo.set_transaction_status(
            conn,
            row["transaction_id"],
            TransactionStatus.CANCELLED,
            now=now,
            payment_method=paid.payment_type,
            payment_gateway_id=paid.transaction_id,
            gateway_report=report,
            refund_requested=True,
        )
        reason = view["cancel_reason"] or "ticket_cancelled_before_payment"
        await ticket_events.ticket_refund_requested(
            conn, self._outbox, view, amount=paid.amount, reason=reason
        )

    async def on_failed(self, conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        failed = PaymentFailed.model_validate(envelope.payload)
        row = await self._locked(conn, failed.order_id)
        if row is None:
            return
        now = datetime.now(UTC)
        status = TicketStatus(row["ticket_status"])
        reason = f"payment_{failed.transaction_status}"
        report = {
            "failed": {"transaction_status": failed.transaction_status, "reason": failed.reason}
        }
        if status is TicketStatus.PENDING:
            await repo.move_seats(conn, row["event_id"], held=-1)
        elif status is TicketStatus.ACTIVE and failed.transaction_status in REVERSALS:
            # A reversal after payment (settlement -> deny, capture -> cancel): the money is not
            # ours, the seat goes back on sale. An `expire` can never follow a payment.
            await repo.move_seats(conn, row["event_id"], sold=-1)
        else:
            if row["transaction_status"] == TransactionStatus.PENDING:
                await repo.set_transaction_status(
                    conn,
                    row["transaction_id"],
                    TransactionStatus.FAILED,
                    now=now,
                    gateway_report=report,
                )
            logger.info(
                "payment.failed changes nothing for a %s ticket",
                status,
                extra=log_fields(order_id=failed.order_id),
            )
            return
        await self._move(
            conn,
            row,
            TicketStatus.CANCELLED,
            now=now,
            cancelled_by="system",
            cancel_reason=reason,
        )
        await repo.set_transaction_status(
            conn, row["transaction_id"], TransactionStatus.FAILED, now=now, gateway_report=report
        )
        view = await self._view(conn, row)
        await ticket_events.ticket_cancelled(
            conn, self._outbox, view, at=now, by="system", reason=reason
        )

    async def on_refunded(self, conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        refund = PaymentRefunded.model_validate(envelope.payload)
        row = await self._locked(conn, refund.order_id)
        if row is None:
            return
        now = datetime.now(UTC)
        status = TicketStatus(row["ticket_status"])
        report = {
            "refunded": {
                "refund_amount": refund.refund_amount,
                "refunded_total": refund.refunded_total,
                "fully_refunded": refund.fully_refunded,
                "transaction_status": refund.transaction_status,
                "reason": refund.reason,
            }
        }
        fields = log_fields(order_id=refund.order_id, ticket_id=str(row["ticket_id"]))
        if not refund.fully_refunded:
            # A partial refund is a goodwill gesture: the ticket stays valid; keep the record.
            await repo.set_transaction_status(
                conn,
                row["transaction_id"],
                row["transaction_status"],
                now=now,
                gateway_report=report,
            )
            logger.info("partial refund recorded; the ticket stays %s", status, extra=fields)
            return
        if status not in (TicketStatus.ACTIVE, TicketStatus.CANCELLED):
            logger.info("payment.refunded changes nothing for a %s ticket", status, extra=fields)
            return
        if status is TicketStatus.ACTIVE:
            await repo.move_seats(conn, row["event_id"], sold=-1)
        await self._move(conn, row, TicketStatus.REFUNDED, now=now)
        await repo.set_transaction_status(
            conn, row["transaction_id"], TransactionStatus.REFUNDED, now=now, gateway_report=report
        )
        if status is TicketStatus.ACTIVE:
            # There is no ticket.refunded contract: an active ticket that stops being valid is
            # reported as cancelled, with the reason.
            view = await self._view(conn, row)
            await ticket_events.ticket_cancelled(
                conn, self._outbox, view, at=now, by="system", reason="refunded"
            )


def _settlement_report(paid: PaymentSettled) -> dict[str, Any]:
    return {
        "payment_type": paid.payment_type,
        "transaction_id": paid.transaction_id,
        "amount": paid.amount,
        "settled_at": paid.settled_at.isoformat(),
    }
