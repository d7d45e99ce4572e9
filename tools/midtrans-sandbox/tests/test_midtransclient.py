"""The official Python client (midtransclient 1.4.2), pointed at the sandbox, works unchanged."""

from __future__ import annotations

import hashlib
import uuid

import midtransclient
import pytest
from midtransclient.error_midtrans import MidtransAPIError


def point_at_sandbox(client, sandbox, hook=None):
    # REFERENCE §9: instance attributes shadow ApiConfig's class attributes.
    client.api_config.SNAP_SANDBOX_BASE_URL = f"{sandbox.base}/snap/v1"
    client.api_config.CORE_SANDBOX_BASE_URL = sandbox.base
    if hook is not None:
        client.api_config.custom_headers = {"X-Override-Notification": sandbox.receiver.url(hook)}
    return client


def snap_for(sandbox, hook=None, server_key=None):
    snap = midtransclient.Snap(
        is_production=False,
        server_key=server_key or sandbox.server_key,
        client_key="SB-Mid-client-local-dev-key",
    )
    return point_at_sandbox(snap, sandbox, hook)


def core_for(sandbox):
    core = midtransclient.CoreApi(is_production=False, server_key=sandbox.server_key)
    return point_at_sandbox(core, sandbox)


def params(order_id, amount=200000):
    return {
        "transaction_details": {"order_id": order_id, "gross_amount": amount},
        "item_details": [{"id": "vip", "price": amount // 2, "quantity": 2, "name": "VIP seat"}],
        "customer_details": {"first_name": "Siti", "email": "siti@example.com", "phone": "08123"},
        "credit_card": {"secure": True},
    }


def new_order_id():
    return f"mc-{uuid.uuid4().hex[:16]}"


def test_create_transaction_returns_token_and_redirect_url(sandbox, hook):
    snap = snap_for(sandbox, hook)
    result = snap.create_transaction(params(new_order_id()))
    assert set(result) == {"token", "redirect_url"}
    assert snap.create_transaction_token(params(new_order_id()))
    assert snap.create_transaction_redirect_url(params(new_order_id())).startswith(sandbox.base)


def test_wrong_server_key_raises_401(sandbox):
    snap = snap_for(sandbox, server_key="SB-Mid-server-wrong")
    with pytest.raises(MidtransAPIError) as raised:
        snap.create_transaction(params(new_order_id()))
    assert raised.value.http_status_code == 401
    assert "unauthorized" in raised.value.message


def test_missing_order_id_raises_400_is_required(sandbox):
    with pytest.raises(MidtransAPIError) as raised:
        snap_for(sandbox).create_transaction({})
    assert raised.value.http_status_code == 400
    assert "is required" in raised.value.message


def test_status_before_payment_raises_404(sandbox, hook):
    snap = snap_for(sandbox, hook)
    order_id = new_order_id()
    snap.create_transaction(params(order_id))
    with pytest.raises(MidtransAPIError) as raised:
        snap.transactions.status(order_id)
    assert raised.value.http_status_code == 404
    assert raised.value.api_response_dict["status_code"] == "404"


def test_notification_arrives_signed_and_client_can_verify_it_by_status(sandbox, hook):
    snap = snap_for(sandbox, hook)
    order_id = new_order_id()
    snap.create_transaction(params(order_id))
    sandbox.pay(order_id, "bank_transfer", "settlement", bank="bni")
    notification = sandbox.receiver.wait_for(hook, 2)[-1]["body"]
    raw = (
        notification["order_id"]
        + notification["status_code"]
        + notification["gross_amount"]
        + sandbox.server_key
    )
    assert notification["signature_key"] == hashlib.sha512(raw.encode()).hexdigest()
    # The client's own verification: re-fetch the status by transaction_id.
    verified = snap.transactions.notification(notification)
    assert verified["transaction_status"] == "settlement"
    assert verified["order_id"] == order_id
    assert verified["gross_amount"] == "200000.00"


def test_status_cancel_of_pending_transaction(sandbox, hook):
    snap = snap_for(sandbox, hook)
    order_id = new_order_id()
    snap.create_transaction(params(order_id))
    sandbox.pay(order_id, "echannel", "pending")
    assert snap.transactions.status(order_id)["transaction_status"] == "pending"
    cancelled = snap.transactions.cancel(order_id)
    assert cancelled["status_code"] == "200"
    assert cancelled["transaction_status"] == "cancel"


def test_expire_returns_407_without_raising(sandbox, hook):
    snap = snap_for(sandbox, hook)
    order_id = new_order_id()
    snap.create_transaction(params(order_id))
    sandbox.pay(order_id, "qris", "pending")
    expired = snap.transactions.expire(order_id)
    assert expired["status_code"] == "407"
    assert snap.transactions.status(order_id)["transaction_status"] == "expire"


def test_refunds_through_the_core_api_client(sandbox, hook):
    snap = snap_for(sandbox, hook)
    order_id = new_order_id()
    snap.create_transaction(params(order_id))
    sandbox.pay(order_id, "credit_card", "settlement")
    core = core_for(sandbox)
    partial = core.transactions.refund(
        order_id, {"refund_key": f"{order_id}-r1", "amount": 50000, "reason": "Seat moved"}
    )
    assert partial["transaction_status"] == "partial_refund"
    assert partial["refund_amount"] == "50000.00"
    with pytest.raises(MidtransAPIError) as raised:
        core.transactions.refund(order_id, {"amount": 999999})
    assert raised.value.http_status_code == 414
    with pytest.raises(MidtransAPIError) as duplicate:
        core.transactions.refund(order_id, {"refund_key": f"{order_id}-r1", "amount": 1})
    assert duplicate.value.api_response_dict["status_code"] == "406"
    rest = core.transactions.refund(order_id, {"refund_key": f"{order_id}-r2"})
    assert rest["transaction_status"] == "refund"
    assert rest["refund_amount"] == "150000.00"


def test_cancel_of_settled_transaction_raises_412(sandbox, hook):
    snap = snap_for(sandbox, hook)
    order_id = new_order_id()
    snap.create_transaction(params(order_id))
    sandbox.pay(order_id, "gopay", "settlement")
    with pytest.raises(MidtransAPIError) as raised:
        snap.transactions.cancel(order_id)
    assert raised.value.http_status_code == 412


def test_approve_and_deny_challenged_card_payments(sandbox, hook):
    core = core_for(sandbox)
    snap = snap_for(sandbox, hook)
    approved_id, denied_id = new_order_id(), new_order_id()
    for order_id in (approved_id, denied_id):
        snap.create_transaction(params(order_id))
        sandbox.pay(order_id, "credit_card", "challenge")
    transaction_id = core.transactions.status(approved_id)["transaction_id"]
    assert core.transactions.approve(transaction_id)["fraud_status"] == "accept"
    assert core.transactions.deny(denied_id)["transaction_status"] == "deny"
    with pytest.raises(MidtransAPIError) as raised:
        core.transactions.approve(denied_id)
    assert raised.value.http_status_code == 412
