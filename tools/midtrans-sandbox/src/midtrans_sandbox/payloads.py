"""The transaction body Midtrans sends in notifications and returns from the status API."""

from __future__ import annotations

from typing import Any

from midtrans_sandbox.clock import midtrans_time
from midtrans_sandbox.signature import format_amount, signature_key
from midtrans_sandbox.state import Status, Transaction

NOTIFICATION_MESSAGE = "midtrans payment notification"
STATUS_FOUND_MESSAGE = "Success, transaction is found"


def transaction_body(
    transaction: Transaction,
    *,
    status_code: str,
    status_message: str,
    server_key: str,
    merchant_id: str,
) -> dict[str, Any]:
    """All scalar values are strings; gross_amount has two decimals; times are GMT+7."""
    gross_amount = format_amount(transaction.gross_amount)
    body: dict[str, Any] = {
        "transaction_time": midtrans_time(transaction.transaction_time),
        "transaction_status": str(transaction.status),
        "transaction_id": transaction.transaction_id,
        "status_message": status_message,
        "status_code": status_code,
        "signature_key": signature_key(transaction.order_id, status_code, gross_amount, server_key),
    }
    if transaction.settlement_time is not None:
        body["settlement_time"] = midtrans_time(transaction.settlement_time)
    body.update(
        {
            "payment_type": transaction.payment_type,
            "order_id": transaction.order_id,
            "merchant_id": merchant_id,
            "gross_amount": gross_amount,
            "fraud_status": transaction.fraud_status,
            "currency": "IDR",
        }
    )
    if transaction.expiry_time is not None:
        body["expiry_time"] = midtrans_time(transaction.expiry_time)
    body.update(_payment_type_fields(transaction))
    if transaction.refunds:
        body["refund_amount"] = format_amount(transaction.refunded_amount)
        body["refunds"] = [
            {
                "refund_chargeback_id": r.refund_chargeback_id,
                "refund_amount": format_amount(r.amount),
                "created_at": midtrans_time(r.created_at),
                "reason": r.reason,
                "refund_key": r.refund_key,
                "refund_method": "",
                "bank_confirmed_at": midtrans_time(r.created_at),
            }
            for r in transaction.refunds
        ]
    body.update(transaction.custom_fields)
    return body


def _payment_type_fields(transaction: Transaction) -> dict[str, Any]:
    fields = dict(transaction.details)
    kind = transaction.payment_type
    paid = transaction.settlement_time is not None
    if kind == "bank_transfer" and "va_numbers" in fields:
        fields["payment_amounts"] = (
            [
                {
                    "paid_at": midtrans_time(transaction.settlement_time),
                    "amount": format_amount(transaction.gross_amount),
                }
            ]
            if transaction.settlement_time is not None
            else []
        )
    if kind == "qris" and paid:
        fields.update({"issuer": "gopay", "transaction_type": "on-us"})
    if kind == "credit_card":
        denied = transaction.status in {Status.DENY, Status.FAILURE}
        fields["channel_response_code"] = "05" if denied else "00"
        fields["channel_response_message"] = "Do not honor" if denied else "Approved"
        if not denied and transaction.status is not Status.PENDING:
            fields["approval_code"] = fields.pop("approval_code", None) or str(
                int(transaction.transaction_time.timestamp() * 1000)
            )
        else:
            fields.pop("approval_code", None)
    return fields
