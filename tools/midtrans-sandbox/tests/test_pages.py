"""The page at redirect_url: a person sees the order, pays, and goes back to the finish URL."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit


def create_with_finish(sandbox, hook, **extra):
    return sandbox.create(
        hook=hook,
        amount=150000,
        extra={
            "item_details": [{"id": "t", "price": 75000, "quantity": 2, "name": "Festival pass"}],
            "customer_details": {"first_name": "Ayu", "email": "ayu@example.com"},
            "callbacks": {"finish": "https://shop.example/finish?from=snap"},
            **extra,
        },
    )


def test_redirect_url_shows_the_order_and_its_methods(sandbox, hook):
    order_id, snap = create_with_finish(sandbox, hook, enabled_payments=["bca_va", "gopay"])
    page = sandbox.http.get(snap["redirect_url"])
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert order_id in page.text
    assert "Rp 150.000" in page.text
    assert "Festival pass" in page.text
    assert "ayu@example.com" in page.text
    methods = re.findall(r"name='method' value='([a-z_]+)'", page.text)
    assert methods == ["gopay", "bca_va"]


def test_paying_on_the_page_redirects_to_finish_and_notifies(sandbox, hook):
    order_id, snap = create_with_finish(sandbox, hook)
    response = sandbox.http.post(
        f"{snap['redirect_url']}/pay",
        content=b"method=bni_va&outcome=settlement",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "shop.example", "/finish")
    assert parse_qs(location.query) == {
        "from": ["snap"],
        "order_id": [order_id],
        "status_code": ["200"],
        "transaction_status": ["settlement"],
    }
    received = sandbox.receiver.wait_for(hook, 2)
    assert [r["body"]["transaction_status"] for r in received] == ["pending", "settlement"]
    assert received[-1]["body"]["va_numbers"][0]["bank"] == "bni"


def test_letting_it_fail_on_the_page_redirects_with_the_failure(sandbox, hook):
    _, snap = create_with_finish(sandbox, hook)
    response = sandbox.http.post(
        f"{snap['redirect_url']}/pay", data={"method": "credit_card", "outcome": "deny"}
    )
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert (query["status_code"], query["transaction_status"]) == (["202"], ["deny"])


def test_pending_payment_shows_instructions_and_can_be_paid_later(sandbox, hook):
    order_id, snap = create_with_finish(sandbox, hook)
    response = sandbox.http.post(
        f"{snap['redirect_url']}/pay", data={"method": "permata_va", "outcome": "pending"}
    )
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["transaction_status"] == ["pending"]
    page = sandbox.http.get(snap["redirect_url"])
    va = sandbox.http.get(f"/_sandbox/orders/{order_id}").json()["transaction"]["details"]
    assert va["permata_va_number"] in page.text
    later = sandbox.http.post(f"{snap['redirect_url']}/pay", data={"outcome": "settlement"})
    assert parse_qs(urlsplit(later.headers["location"]).query)["transaction_status"] == [
        "settlement"
    ]
    assert "settlement" in sandbox.http.get(snap["redirect_url"]).text


def test_page_without_finish_url_shows_the_result(sandbox, hook):
    _, snap = sandbox.create(hook=hook)
    response = sandbox.http.post(
        f"{snap['redirect_url']}/pay", data={"method": "gopay", "outcome": "settlement"}
    )
    assert response.status_code == 303
    page = sandbox.http.get(response.headers["location"])
    assert "settlement" in page.text


def test_method_not_enabled_is_refused_on_the_page(sandbox, hook):
    _, snap = create_with_finish(sandbox, hook, enabled_payments=["gopay"])
    response = sandbox.http.post(
        f"{snap['redirect_url']}/pay", data={"method": "bca_va", "outcome": "settlement"}
    )
    assert response.status_code == 409
    assert "not in enabled_payments" in response.text


def test_unknown_token_is_404(sandbox):
    assert sandbox.http.get("/snap/v3/redirection/not-a-token").status_code == 404


def test_older_redirect_paths_serve_the_same_page(sandbox, hook):
    order_id, snap = sandbox.create(hook=hook)
    for prefix in ("/snap/v2/vtweb/", "/snap/v4/redirection/"):
        assert order_id in sandbox.http.get(prefix + snap["token"]).text


def test_person_pays_on_the_page_and_sees_the_notification_arrive(sandbox, eventually):
    """The demo flow: notifications go to the sandbox's own receiver, shown on /_sandbox/."""
    headers = sandbox.headers(**{"X-Override-Notification": f"{sandbox.base}/_sandbox/receiver"})
    body = {
        "transaction_details": {"order_id": "demo-1", "gross_amount": 50000},
        "callbacks": {"finish": f"{sandbox.base}/_sandbox/"},
    }
    snap = sandbox.snap(body, headers).json()
    assert "demo-1" in sandbox.http.get(snap["redirect_url"]).text
    paid = sandbox.http.post(
        f"{snap['redirect_url']}/pay",
        data={"method": "gopay", "outcome": "settlement"},
        follow_redirects=True,
    )
    assert paid.status_code == 200  # the finish URL here is the overview page
    assert str(paid.url).startswith(f"{sandbox.base}/_sandbox/?order_id=demo-1")

    def both_received():
        got = sandbox.http.get("/_sandbox/receiver", params={"order_id": "demo-1"}).json()
        return got["received"] if len(got["received"]) == 2 else None

    received = eventually(both_received)
    assert [r["body"]["transaction_status"] for r in received] == ["pending", "settlement"]
    assert all(r["signature_valid"] for r in received)
    overview = sandbox.http.get("/_sandbox/").text
    assert "demo-1" in overview
    assert "valid" in overview


def test_receiver_flags_a_bad_signature(sandbox):
    forged = {"order_id": "x", "status_code": "200", "gross_amount": "1.00", "signature_key": "00"}
    assert sandbox.http.post("/_sandbox/receiver", json=forged).text == "OK"
    assert sandbox.http.get("/_sandbox/receiver").json()["received"][0]["signature_valid"] is False


def test_submitting_the_page_twice_changes_nothing(sandbox, hook):
    order_id, snap = create_with_finish(sandbox, hook)
    form = {"method": "gopay", "outcome": "settlement"}
    first = sandbox.http.post(f"{snap['redirect_url']}/pay", data=form)
    again = sandbox.http.post(f"{snap['redirect_url']}/pay", data={**form, "outcome": "deny"})
    assert again.status_code == 303
    assert again.headers["location"] == first.headers["location"]
    sandbox.settle_deliveries(order_id)
    assert len(sandbox.receiver.received(hook)) == 2
