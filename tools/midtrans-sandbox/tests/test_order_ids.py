"""order_ids with the characters real Midtrans takes (spaces, colons) work on every route."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import midtransclient
import pytest

# What the official client's Snap tests send (datetime.now() with "%Y-%m-%d %H:%M:%S").
OFFICIAL_STYLE = "python-midtransclient-test-2026-12-02 14:05:01"


def create(sandbox, hook, order_id, **extra):
    response = sandbox.snap(
        {"transaction_details": {"order_id": order_id, "gross_amount": 10000}, **extra},
        sandbox.headers(**{"X-Override-Notification": sandbox.receiver.url(hook)}),
    )
    assert response.status_code == 201, response.text
    return response.json()


def path_of(order_id):
    return quote(order_id, safe="")


@pytest.mark.parametrize(
    "order_id", [OFFICIAL_STYLE, "py-midtransclient-test-20261202140501.123", "a:b c~d.e_f-g"]
)
def test_snap_accepts_spaces_and_colons(sandbox, hook, order_id):
    assert "token" in create(sandbox, hook, order_id)


def test_control_routes_take_url_encoded_ids(sandbox, hook):
    create(sandbox, hook, OFFICIAL_STYLE)
    base = f"/_sandbox/orders/{path_of(OFFICIAL_STYLE)}"
    paid = sandbox.http.post(f"{base}/pay", json={"payment_type": "gopay", "outcome": "settlement"})
    assert paid.status_code == 200, paid.text
    assert paid.json()["order_id"] == OFFICIAL_STYLE
    assert sandbox.http.get(base).json()["transaction"]["transaction_status"] == "settlement"
    log = sandbox.http.get("/_sandbox/notifications", params={"order_id": OFFICIAL_STYLE}).json()
    assert [n["body"]["order_id"] for n in log["notifications"]] == [OFFICIAL_STYLE] * 2
    assert sandbox.http.post(f"{base}/replay", json={}).status_code == 200
    refunded = sandbox.http.post(f"{base}/dashboard", json={"action": "refund"})
    assert refunded.json()["transaction"]["transaction_status"] == "refund"


@pytest.mark.parametrize(
    ("payment_type", "outcome", "action", "expected"),
    [
        ("gopay", "pending", "cancel", "cancel"),
        ("gopay", "pending", "expire", "expire"),
        ("credit_card", "settlement", "refund", "refund"),
        ("credit_card", "settlement", "refund/online/direct", "refund"),
        ("credit_card", "challenge", "approve", "capture"),
        ("credit_card", "challenge", "deny", "deny"),
    ],
)
def test_core_api_routes_take_url_encoded_ids(
    sandbox, hook, signature_of, payment_type, outcome, action, expected
):
    order_id = f"order {payment_type}:{action.replace('/', ' ')}"
    create(sandbox, hook, order_id)
    sandbox.http.post(
        f"/_sandbox/orders/{path_of(order_id)}/pay",
        json={"payment_type": payment_type, "outcome": outcome},
    )
    answer = sandbox.core("POST", f"/v2/{path_of(order_id)}/{action}", {})
    assert answer.status_code == 200, answer.text
    assert answer.json()["transaction_status"] == expected
    status = sandbox.status(path_of(order_id)).json()
    assert (status["order_id"], status["transaction_status"]) == (order_id, expected)
    assert status["signature_key"] == signature_of(status, sandbox.server_key)
    received = sandbox.receiver.wait_for(hook, 2)[-1]["body"]
    assert received["order_id"] == order_id
    assert received["signature_key"] == signature_of(received, sandbox.server_key)


def test_payment_page_and_finish_redirect_carry_the_id(sandbox, hook):
    snap = create(sandbox, hook, OFFICIAL_STYLE, callbacks={"finish": "http://merchant.test/done"})
    page = sandbox.http.get(snap["redirect_url"])
    assert OFFICIAL_STYLE in page.text
    done = sandbox.http.post(
        f"{snap['redirect_url']}/pay", data={"method": "qris", "outcome": "settlement"}
    )
    query = parse_qs(urlsplit(done.headers["location"]).query)
    assert query["order_id"] == [OFFICIAL_STYLE]
    assert query["transaction_status"] == ["settlement"]


def test_official_client_pastes_the_raw_id_into_status_and_it_works(sandbox, hook):
    create(sandbox, hook, OFFICIAL_STYLE)
    sandbox.http.post(
        f"/_sandbox/orders/{path_of(OFFICIAL_STYLE)}/pay",
        json={"payment_type": "bank_transfer", "outcome": "pending"},
    )
    core = midtransclient.CoreApi(is_production=False, server_key=sandbox.server_key)
    core.api_config.CORE_SANDBOX_BASE_URL = sandbox.base
    assert core.transactions.status(OFFICIAL_STYLE)["order_id"] == OFFICIAL_STYLE
    assert core.transactions.cancel(OFFICIAL_STYLE)["transaction_status"] == "cancel"
