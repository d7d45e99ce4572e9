"""Snap: POST /snap/v1/transactions over HTTP, as payment-service calls it."""

from __future__ import annotations

import base64
import uuid

import pytest

UNAUTHORIZED = [
    "Access denied due to unauthorized transaction, please check client or server key",
    "Visit https://snap-docs.midtrans.com/#request-headers for more details",
]


def body(order_id: str = "order-1", amount: object = 10000, **extra: object) -> dict[str, object]:
    return {"transaction_details": {"order_id": order_id, "gross_amount": amount}, **extra}


def test_create_answers_201_with_token_and_redirect_url(sandbox):
    response = sandbox.snap(body())
    assert response.status_code == 201
    data = response.json()
    assert set(data) == {"token", "redirect_url"}
    assert str(uuid.UUID(data["token"])) == data["token"]
    assert data["redirect_url"] == f"{sandbox.base}/snap/v3/redirection/{data['token']}"


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Basic " + base64.b64encode(b"SB-Mid-server-wrong:").decode(),
        "Bearer SB-Mid-server-test-key-0123456789",
        "Basic not-base64!!",
    ],
)
def test_missing_or_wrong_server_key_is_refused_with_401(sandbox, authorization):
    headers = {"Content-Type": "application/json"}
    if authorization:
        headers["Authorization"] = authorization
    response = sandbox.snap(body(), headers)
    assert response.status_code == 401
    assert response.json() == {"error_messages": UNAUTHORIZED}


def test_server_key_is_the_basic_auth_user_name_with_empty_password(sandbox):
    token = base64.b64encode(f"{sandbox.server_key}:".encode()).decode()
    response = sandbox.snap(body(), {"Authorization": f"Basic {token}"})
    assert response.status_code == 201


def test_order_id_of_50_allowed_characters_is_accepted(sandbox):
    order_id = ("Ab9-_~." * 8)[:50]
    assert sandbox.snap(body(order_id)).status_code == 201


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, "transaction_details.order_id is required"),
        (
            {"transaction_details": {"gross_amount": 1000}},
            "transaction_details.order_id is required",
        ),
        (body("x" * 51), "transaction_details.order_id too long"),
        (
            {"transaction_details": {"order_id": "o-1"}},
            "transaction_details.gross_amount is required",
        ),
        (body(amount=0), "transaction_details.gross_amount must be greater than or equal to 0.01"),
        (body(amount=-5), "transaction_details.gross_amount must be greater than or equal to 0.01"),
        (
            body(amount=10000.5),
            "transaction_details.gross_amount must be an integer (IDR has no decimals)",
        ),
        (body(amount="abc"), "transaction_details.gross_amount is not a number"),
        (
            body(item_details=[{"id": "a", "price": 4000, "quantity": 2, "name": "Seat"}]),
            "transaction_details.gross_amount is not equal to the sum of item_details",
        ),
        (
            body(item_details=[{"price": 10000, "quantity": 1, "name": "n" * 51}]),
            "item_details Name too long",
        ),
        (body(item_details=[{"price": 10000, "quantity": 1}]), "item_details Name is required"),
        (
            body(item_details=[{"price": 10000, "quantity": 0, "name": "a"}]),
            "item_details Quantity must be greater than or equal to 1",
        ),
        (body(customer_details={"first_name": "a" * 256}), "customer_details.first_name too long"),
        (
            body(customer_details={"email": "not-an-email"}),
            "customer_details.email format is invalid",
        ),
        (body(customer_details={"phone": "0" * 20}), "customer_details.phone too long"),
        (
            body(customer_details={"billing_address": {"postal_code": "12345678901"}}),
            "customer_details.billing_address.postal_code too long",
        ),
        (
            body(customer_details={"shipping_address": {"country_code": "INDO"}}),
            "customer_details.shipping_address.country_code too long",
        ),
        (body(enabled_payments="gopay"), "enabled_payments must be an array of strings"),
        (
            body(enabled_payments=["bitcoin"]),
            "enabled_payments contains unknown payment channel: bitcoin",
        ),
        (body(callbacks={"finish": "not a url"}), "callbacks.finish must be a valid URL"),
        (
            body(expiry={"unit": "week", "duration": 1}),
            "expiry.unit must be one of day, hour, minute",
        ),
        (
            body(expiry={"unit": "minutes", "duration": 0}),
            "expiry.duration must be a positive integer",
        ),
        (
            body(expiry={"start_time": "2020-04-13T18:11:08", "unit": "minute", "duration": 60}),
            "expiry.start_time must be formatted as yyyy-MM-dd HH:mm:ss Z",
        ),
        (body(custom_field1="c" * 256), "custom_field1 too long"),
    ],
)
def test_invalid_request_is_refused_with_400_and_midtrans_message(sandbox, payload, message):
    response = sandbox.snap(payload)
    assert response.status_code == 400
    assert message in response.json()["error_messages"]
    assert set(response.json()) == {"error_messages"}


@pytest.mark.parametrize("bad", ["order#1", "órden", "a/b", "a?b", "a%20b", "tab\tb", "a+b"])
def test_order_id_outside_the_allowed_set_is_refused(sandbox, bad):
    response = sandbox.snap(body(bad))
    assert response.status_code == 400
    assert response.json()["error_messages"][0].startswith(
        "transaction_details.order_id contains invalid characters"
    )


def test_item_details_summing_to_gross_amount_with_a_discount_are_accepted(sandbox):
    items = [
        {"id": "seat", "price": 6000, "quantity": 2, "name": "Seat"},
        {"id": "promo", "price": -2000, "quantity": 1, "name": "Discount"},
    ]
    assert sandbox.snap(body(item_details=items)).status_code == 201


def test_the_order_shows_the_item_lines_it_was_opened_with(sandbox):
    items = [
        {"id": "vip", "price": 7000, "quantity": 1, "name": "VIP"},
        {"id": "reg", "price": 3000, "quantity": 2, "name": "Reguler"},
        {"id": "promo", "price": -3000, "quantity": 1, "name": "Promo HEMAT"},
    ]
    assert sandbox.snap(body("lines-1", item_details=items)).status_code == 201
    order = sandbox.http.get("/_sandbox/orders/lines-1").json()
    assert order["item_details"] == items
    assert order["gross_amount"] == 10000


def test_full_request_with_every_optional_part_is_accepted(sandbox):
    payload = body(
        "full-1",
        150000,
        item_details=[{"id": "t1", "price": 75000, "quantity": 2, "name": "Ticket", "brand": "x"}],
        customer_details={
            "first_name": "Budi",
            "last_name": "Santoso",
            "email": "budi@example.com",
            "phone": "+62 812-3456-7890",
            "billing_address": {"city": "Jakarta", "postal_code": "12190", "country_code": "IDN"},
        },
        enabled_payments=["credit_card", "bca_va", "gopay", "other_qris", "indomaret"],
        callbacks={"finish": "https://shop.example/finish"},
        expiry={"start_time": "2099-01-01 10:00:00 +0700", "unit": "hours", "duration": 2},
        page_expiry={"duration": 3, "unit": "hours"},
        credit_card={"secure": True},
        custom_field1="seat=A1",
    )
    assert sandbox.snap(payload).status_code == 201


def test_invalid_json_is_refused_with_400(sandbox):
    response = sandbox.http.post(
        "/snap/v1/transactions", content=b"{not json", headers=sandbox.headers()
    )
    assert response.status_code == 400
    assert "error_messages" in response.json()


def test_recreating_an_order_before_payment_replaces_the_token(sandbox):
    first = sandbox.snap(body("again-1")).json()
    second = sandbox.snap(body("again-1", 20000)).json()
    assert second["token"] != first["token"]
    assert sandbox.http.get(first["redirect_url"]).status_code == 404
    page = sandbox.http.get(second["redirect_url"])
    assert page.status_code == 200
    assert "Rp 20.000" in page.text


def test_recreating_an_order_with_a_payment_attempt_is_refused(sandbox):
    order_id, _ = sandbox.create(hook="/ignored")
    assert sandbox.pay(order_id, "bank_transfer", "pending").status_code == 200
    response = sandbox.snap(body(order_id))
    assert response.status_code == 400
    assert response.json() == {
        "error_messages": ["transaction_details.order_id has already been taken"]
    }
