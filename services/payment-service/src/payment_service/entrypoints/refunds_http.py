"""HTTP routes of refunds: an admin's refund, the buyer's view and bank account, payouts.

`GET /api/payment/refunds` lists (admins: every refund, e.g. `?status=awaiting_payout`; a buyer:
their own), keyset-paginated with `limit` and `next_cursor` like the rest of the API.
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from servicekit.auth import AdminUser, CurrentUser, Principal
from servicekit.contract import declare
from servicekit.errors import AppError
from servicekit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Cursor, decode_cursor, encode_cursor

from payment_service.domain.refunds import BankAccount, Refund, RefundStatus
from payment_service.entrypoints.http import PaymentDepsDep
from payment_service.service_layer import refunds
from payment_service.service_layer.refunds import RefundCaller


class RefundCreate(BaseModel):
    amount: int | None = Field(default=None, gt=0)
    reason: str = Field(min_length=1, max_length=255)
    request_id: str | None = Field(default=None, max_length=100)


class BankAccountIn(BaseModel):
    """As `domain.refunds.BankAccount.parse` accepts it, so what the schema admits is accepted."""

    bank_code: str = Field(pattern=r"^[A-Za-z0-9_]{2,20}$", examples=["bca", "014"])
    account_number: str = Field(
        max_length=60, pattern=r"^(?:[ -]*[0-9]){5,20}[ -]*$", examples=["0123456789"]
    )
    # Latin letters spelled out: `\w` differs between Python's and pydantic's regex engines.
    holder_name: str = Field(
        pattern=r"^[A-Za-zÀ-ÖØ-öø-ÿ](?:[A-Za-zÀ-ÖØ-öø-ÿ0-9 .,'-]{0,98}[A-Za-zÀ-ÖØ-öø-ÿ0-9.,'-])$"
    )


class PayoutDone(BaseModel):
    reference: str = Field(min_length=1, max_length=100, pattern=r"^\S(.*\S)?$")


def _caller(user: Principal) -> RefundCaller:
    return RefundCaller(user_id=user.user_id, is_admin=user.is_admin)


def _public(r: Refund, *, full_account: bool) -> dict[str, Any]:
    account = None
    if r.bank_account is not None:
        a = r.bank_account
        account = {
            "bank_code": a.bank_code,
            "account_number": a.account_number if full_account else a.masked_number,
            "holder_name": a.holder_name,
        }
    return {
        "refund_id": str(r.refund_id),
        "refund_key": r.refund_key,
        "order_id": r.order_id,
        "amount": r.amount,
        "reason": r.reason,
        "method": str(r.method),
        "status": str(r.status),
        "source": r.source,
        "requested_by": r.requested_by,
        "last_error": r.last_error if full_account else None,
        "bank_account": account,
        "payout_reference": r.payout_reference,
        "paid_out_at": _iso(r.paid_out_at),
        "created_at": r.created_at.isoformat(),
        "updated_at": r.updated_at.isoformat(),
        "finished_at": _iso(r.finished_at),
        "ticket_ids": list(r.ticket_ids),
    }


admin_refunds = APIRouter(prefix="/api/payment/admin", tags=["admin"])


@admin_refunds.post("/orders/{order_id}/refund", responses=declare(409, 502, 503))
async def refund_order(
    order_id: str, body: RefundCreate, user: AdminUser, deps: PaymentDepsDep
) -> dict[str, Any]:
    refund = await refunds.request_admin_refund(
        deps.refund_works,
        deps.midtrans,
        order_id=order_id,
        amount=body.amount,
        reason=body.reason,
        request_id=body.request_id,
        admin_id=user.user_id,
    )
    if refund.status is RefundStatus.FAILED:
        raise AppError(
            refund.last_error or "Midtrans refused the refund.",
            code="midtrans_refused",
            status_code=502,
            details={"refund": _public(refund, full_account=True)},
        )
    return {"data": _public(refund, full_account=True)}


buyer_refunds = APIRouter(prefix="/api/payment/refunds", tags=["refunds"])


@buyer_refunds.get("")
async def list_refunds(
    user: CurrentUser,
    deps: PaymentDepsDep,
    status: RefundStatus | None = None,
    order_id: Annotated[str | None, Query(max_length=50)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    rows = await refunds.refunds_page(
        deps.refund_works,
        _caller(user),
        status=status,
        order_id=order_id,
        after=decode_cursor(cursor),
        limit=limit,
    )
    next_cursor = (
        encode_cursor(rows[-1].created_at, rows[-1].refund_id) if len(rows) == limit else None
    )
    return {
        "data": [_public(r, full_account=user.is_admin) for r in rows],
        "next_cursor": next_cursor,
    }


@buyer_refunds.get("/{refund_id}")
async def get_refund(refund_id: str, user: CurrentUser, deps: PaymentDepsDep) -> dict[str, Any]:
    refund = await refunds.refund_for(deps.refund_works, refund_id, _caller(user))
    return {"data": _public(refund, full_account=user.is_admin)}


@buyer_refunds.post("/{refund_id}/bank-account", responses=declare(409))
async def give_bank_account(
    refund_id: str, body: BankAccountIn, user: CurrentUser, deps: PaymentDepsDep
) -> dict[str, Any]:
    """The buyer only (an admin's token sees someone else's refund as 404 here)."""
    account = BankAccount.parse(body.bank_code, body.account_number, body.holder_name)
    refund = await refunds.give_bank_account(deps.refund_works, refund_id, user.user_id, account)
    return {"data": _public(refund, full_account=False)}


@buyer_refunds.post("/{refund_id}/payout", responses=declare(409))
async def record_payout(
    refund_id: str, body: PayoutDone, user: AdminUser, deps: PaymentDepsDep
) -> dict[str, Any]:
    refund = await refunds.close_payout(
        deps.refund_works, refund_id, reference=body.reference, admin_id=user.user_id
    )
    return {"data": _public(refund, full_account=True)}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
