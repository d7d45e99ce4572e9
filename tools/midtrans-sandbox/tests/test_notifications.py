"""HTTP notifications: payload, signature, retries on Midtrans' schedule, replay, faults, URLs."""

from __future__ import annotations

import hashlib
import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
from midtrans_sandbox.signature import signature_key

TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
AMOUNT = re.compile(r"\d+\.\d\d")
RETRY_DELAYS = [120, 600, 1800, 5400, 12600]


def expected_signature(body, server_key):
    """Independent of the sandbox: SHA-512 over the raw strings, lowercase hex."""
    raw = body["order_id"] + body["status_code"] + body["gross_amount"] + server_key
    return hashlib.sha512(raw.encode()).hexdigest()


def assert_midtrans_shaped(body, server_key):
    for key, value in body.items():
        if key in {"va_numbers", "payment_amounts", "refunds"}:
            assert isinstance(value, list)
        else:
            assert isinstance(value, str), f"{key} is {type(value).__name__}"
    assert AMOUNT.fullmatch(body["gross_amount"])
    assert body["signature_key"] == expected_signature(body, server_key)
    assert re.fullmatch(r"[0-9a-f]{128}", body["signature_key"])
    assert body["status_message"] == "midtrans payment notification"
    assert body["currency"] == "IDR"
    for key in ("transaction_time", "settlement_time", "expiry_time"):
        if key in body:
            assert TIME.fullmatch(body[key])
    jakarta_now = datetime.now(UTC) + timedelta(hours=7)
    sent = datetime.strptime(body["transaction_time"], "%Y-%m-%d %H:%M:%S")
    assert abs((sent - jakarta_now.replace(tzinfo=None)).total_seconds()) < 60


def test_signature_matches_the_reference_test_vector():
    assert signature_key("1111", "200", "100000.00", "askvnoibnosifnboseofinbofinfgbiufglnbfg") == (
        "edc076b21793ebe3e17926350f5b8ae67d902fe657b3d0aa31b932d5c127e2375d308a2bc94f3265ac2d80a1f181a79b997ac178a236fcff35af263fc4d4c231"
    )


def test_bank_transfer_sends_pending_then_settlement(sandbox, hook):
    order_id, _ = sandbox.create(hook=hook, amount=256000)
    assert sandbox.pay(order_id, "bank_transfer", "settlement", bank="bca").status_code == 200
    pending, settlement = (r["body"] for r in sandbox.receiver.wait_for(hook, 2))
    for body in (pending, settlement):
        assert_midtrans_shaped(body, sandbox.server_key)
        assert body["payment_type"] == "bank_transfer"
        assert body["gross_amount"] == "256000.00"
        assert body["va_numbers"][0]["bank"] == "bca"
        assert re.fullmatch(r"\d{11}", body["va_numbers"][0]["va_number"])
        assert "expiry_time" in body
    assert (pending["transaction_status"], pending["status_code"]) == ("pending", "201")
    assert pending["payment_amounts"] == []
    assert "settlement_time" not in pending
    assert (settlement["transaction_status"], settlement["status_code"]) == ("settlement", "200")
    assert settlement["payment_amounts"][0]["amount"] == "256000.00"
    assert TIME.fullmatch(settlement["settlement_time"])
    assert settlement["transaction_id"] == pending["transaction_id"]
    assert settlement["signature_key"] != pending["signature_key"]


def test_notification_request_is_json_post_with_midtrans_headers(sandbox, hook):
    order_id, _ = sandbox.create(hook=hook)
    sandbox.pay(order_id, "gopay", "pending")
    request = sandbox.receiver.wait_for(hook, 1)[0]
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["content-type"] == "application/json"
    assert headers["accept"] == "application/json"


@pytest.mark.parametrize(
    ("payment_type", "extra", "fields"),
    [
        (
            "credit_card",
            {},
            {
                "masked_card",
                "card_type",
                "bank",
                "eci",
                "approval_code",
                "channel_response_code",
                "channel_response_message",
            },
        ),
        ("bank_transfer", {"bank": "bni"}, {"va_numbers", "payment_amounts"}),
        ("bank_transfer", {"bank": "bri"}, {"va_numbers", "payment_amounts"}),
        ("bank_transfer", {"bank": "permata"}, {"permata_va_number"}),
        ("echannel", {}, {"biller_code", "bill_key"}),
        ("gopay", {}, set()),
        ("qris", {}, {"acquirer", "issuer", "transaction_type"}),
        ("shopeepay", {}, {"shopeepay_reference_number", "reference_id"}),
        ("cstore", {"store": "alfamart"}, {"store", "payment_code"}),
    ],
)
def test_settlement_notification_carries_fields_of_its_payment_type(
    sandbox, hook, payment_type, extra, fields
):
    order_id, _ = sandbox.create(hook=hook)
    assert sandbox.pay(order_id, payment_type, "settlement", **extra).status_code == 200
    expected = 2  # pending then settlement; a card is capture then settlement
    last = sandbox.receiver.wait_for(hook, expected)[-1]["body"]
    assert_midtrans_shaped(last, sandbox.server_key)
    assert last["transaction_status"] == "settlement"
    assert last["payment_type"] == payment_type
    assert fields <= set(last)
    if payment_type == "cstore":
        assert last["store"] == "alfamart"
    if payment_type == "qris":
        assert (last["acquirer"], last["issuer"], last["transaction_type"]) == (
            "gopay",
            "gopay",
            "on-us",
        )
    if payment_type == "credit_card":
        assert [r["body"]["transaction_status"] for r in sandbox.receiver.received(hook)] == [
            "capture",
            "settlement",
        ]


@pytest.mark.parametrize(
    ("payment_type", "outcome", "sequence"),
    [
        ("bank_transfer", "pending", [("pending", "201")]),
        ("bank_transfer", "settlement", [("pending", "201"), ("settlement", "200")]),
        ("gopay", "deny", [("pending", "201"), ("deny", "202")]),
        ("qris", "cancel", [("pending", "201"), ("cancel", "202")]),
        ("echannel", "expire", [("pending", "201"), ("expire", "202")]),
        ("cstore", "failure", [("pending", "201"), ("failure", "202")]),
        ("credit_card", "capture", [("capture", "200")]),
        ("credit_card", "challenge", [("capture", "201")]),
        ("credit_card", "deny", [("deny", "202")]),
        ("credit_card", "pending", [("pending", "201")]),
        ("credit_card", "expire", [("pending", "201"), ("expire", "202")]),
        ("credit_card", "settlement", [("capture", "200"), ("settlement", "200")]),
    ],
)
def test_outcome_sends_midtrans_status_sequence(sandbox, hook, payment_type, outcome, sequence):
    order_id, _ = sandbox.create(hook=hook)
    assert sandbox.pay(order_id, payment_type, outcome).status_code == 200
    received = sandbox.receiver.wait_for(hook, len(sequence))
    got = [(r["body"]["transaction_status"], r["body"]["status_code"]) for r in received]
    assert got == sequence
    for r in received:
        assert_midtrans_shaped(r["body"], sandbox.server_key)
    log = sandbox.settle_deliveries(order_id)
    assert len(log["attempts"]) == len(sequence)


def test_denied_card_has_no_approval_code(sandbox, hook):
    order_id, _ = sandbox.create(hook=hook)
    sandbox.pay(order_id, "credit_card", "deny")
    body = sandbox.receiver.wait_for(hook, 1)[0]["body"]
    assert "approval_code" not in body
    assert body["channel_response_code"] != "00"


def test_pending_then_later_settlement_through_a_second_pay(sandbox, hook):
    order_id, _ = sandbox.create(hook=hook)
    sandbox.pay(order_id, "bank_transfer", "pending")
    response = sandbox.pay(order_id, None, "settlement")
    assert response.json()["transaction"]["history"] == ["pending", "settlement"]
    received = sandbox.receiver.wait_for(hook, 2)
    assert [r["body"]["transaction_status"] for r in received] == ["pending", "settlement"]


def test_pay_refuses_illegal_moves(sandbox, hook):
    order_id, _ = sandbox.create(hook=hook)
    assert sandbox.pay(order_id, "gopay", "capture").status_code == 400
    assert sandbox.pay(order_id, "gopay", "bogus").status_code == 400
    assert sandbox.pay("no-such-order", "gopay", "settlement").status_code == 404
    sandbox.pay(order_id, "gopay", "settlement")
    assert sandbox.pay(order_id, None, "cancel").status_code == 409
    assert sandbox.pay(order_id, "qris", "settlement").status_code == 409


def test_refund_notification_is_sent(sandbox, hook):
    order_id, _ = sandbox.create(hook=hook)
    sandbox.pay(order_id, "gopay", "settlement")
    sandbox.core("POST", f"/v2/{order_id}/refund", {"amount": 2500, "refund_key": "rk"})
    body = sandbox.receiver.wait_for(hook, 3)[-1]["body"]
    assert_midtrans_shaped(body, sandbox.server_key)
    assert (body["transaction_status"], body["status_code"]) == ("partial_refund", "200")
    assert body["refund_amount"] == "2500.00"
    assert body["refunds"][0]["refund_amount"] == "2500.00"


def test_default_url_gets_notifications_without_headers(sandbox):
    order_id, _ = sandbox.create()
    sandbox.pay(order_id, "gopay", "pending")
    bodies = [r["body"] for r in sandbox.receiver.wait_for("/default", 1)]
    assert any(b["order_id"] == order_id for b in bodies)


def test_override_header_replaces_the_configured_url(sandbox, hook):
    second = hook + "-2"
    receiver_second = sandbox.receiver.url(second)
    headers = sandbox.headers(
        **{"X-Override-Notification": f"{sandbox.receiver.url(hook)}, {receiver_second}"}
    )
    order_id = "override-1"
    sandbox.snap({"transaction_details": {"order_id": order_id, "gross_amount": 5000}}, headers)
    sandbox.pay(order_id, "gopay", "pending")
    assert sandbox.receiver.wait_for(hook, 1)[0]["body"]["order_id"] == order_id
    assert sandbox.receiver.wait_for(second, 1)[0]["body"]["order_id"] == order_id
    sandbox.settle_deliveries(order_id)
    assert not [
        r for r in sandbox.receiver.received("/default") if r["body"]["order_id"] == order_id
    ]


def test_append_header_adds_to_the_configured_url(sandbox, hook):
    headers = sandbox.headers(**{"X-Append-Notification": sandbox.receiver.url(hook)})
    order_id = "append-1"
    sandbox.snap({"transaction_details": {"order_id": order_id, "gross_amount": 5000}}, headers)
    sandbox.pay(order_id, "gopay", "pending")
    assert sandbox.receiver.wait_for(hook, 1)[0]["body"]["order_id"] == order_id
    sandbox.settle_deliveries(order_id)
    assert order_id in {r["body"]["order_id"] for r in sandbox.receiver.received("/default")}


def test_override_wins_when_both_headers_are_sent(sandbox, hook):
    appended = hook + "-append"
    headers = sandbox.headers(
        **{
            "X-Override-Notification": sandbox.receiver.url(hook),
            "X-Append-Notification": sandbox.receiver.url(appended),
        }
    )
    sandbox.snap({"transaction_details": {"order_id": "both-1", "gross_amount": 5000}}, headers)
    sandbox.pay("both-1", "gopay", "pending")
    sandbox.receiver.wait_for(hook, 1)
    log = sandbox.settle_deliveries("both-1")
    assert {a["url"] for a in log["attempts"]} == {sandbox.receiver.url(hook)}


def test_at_most_three_override_urls_are_used(sandbox, hook):
    urls = [sandbox.receiver.url(f"{hook}-{i}") for i in range(4)]
    headers = sandbox.headers(**{"X-Override-Notification": ",".join(urls)})
    sandbox.snap({"transaction_details": {"order_id": "many-1", "gross_amount": 5000}}, headers)
    order = sandbox.http.get("/_sandbox/orders/many-1").json()
    assert order["notification_urls"] == urls[:3]


def gaps(received):
    times = [r["at"] for r in received]
    return [b - a for a, b in itertools.pairwise(times)]


def assert_schedule(received, scale):
    for gap, delay in zip(gaps(received), RETRY_DELAYS, strict=False):
        expected = delay * scale
        assert expected * 0.8 - 0.002 <= gap <= expected + 0.35, (gap, expected)


@pytest.mark.parametrize(
    ("status", "attempts"),
    [(500, 2), (503, 5), (400, 3), (404, 3), (418, 6), (301, 1), (302, 1), (303, 1)],
)
def test_failed_delivery_is_retried_per_response_code(sandbox, hook, status, attempts):
    sandbox.receiver.program(hook, *([status] * 6))
    order_id, _ = sandbox.create(hook=hook)
    sandbox.pay(order_id, "gopay", "pending")
    log = sandbox.settle_deliveries(order_id)
    received = sandbox.receiver.received(hook)
    assert len(received) == attempts
    assert [a["attempt"] for a in log["attempts"]] == list(range(1, attempts + 1))
    assert [a["kind"] for a in log["attempts"]] == ["original"] + ["retry"] * (attempts - 1)
    assert all(a["response_status"] == status for a in log["attempts"])
    assert_schedule(received, sandbox.settings.retry_scale)
    assert len({r["raw"] for r in received}) == 1  # the very same body each time


def test_retries_stop_at_the_first_2xx(sandbox, hook):
    sandbox.receiver.program(hook, 503, 503, 200)
    order_id, _ = sandbox.create(hook=hook)
    sandbox.pay(order_id, "gopay", "pending")
    log = sandbox.settle_deliveries(order_id)
    assert [a["response_status"] for a in log["attempts"]] == [503, 503, 200]
    assert log["attempts"][-1]["success"] is True
    assert_schedule(sandbox.receiver.received(hook), sandbox.settings.retry_scale)


def test_timeouts_are_retried_five_times(sandbox, hook):
    timeout = sandbox.settings.notification_timeout
    sandbox.receiver.program(hook, *[(200, timeout + 0.2)] * 6)
    order_id, _ = sandbox.create(hook=hook)
    sandbox.pay(order_id, "gopay", "pending")
    log = sandbox.settle_deliveries(order_id, timeout=10)
    assert len(log["attempts"]) == 6
    assert all(a["error"] == "timeout" and a["response_status"] is None for a in log["attempts"])


def test_307_is_followed_with_the_same_post(sandbox, hook):
    target = hook + "-moved"
    sandbox.receiver.program(hook, (307, 0.0, {"Location": target}))
    order_id, _ = sandbox.create(hook=hook)
    sandbox.pay(order_id, "gopay", "pending")
    moved = sandbox.receiver.wait_for(target, 1)
    assert moved[0]["raw"] == sandbox.receiver.received(hook)[0]["raw"]
    log = sandbox.settle_deliveries(order_id)
    assert [(a["kind"], a["response_status"]) for a in log["attempts"]] == [
        ("original", 307),
        ("redirect", 200),
    ]


def test_delivery_log_records_every_attempt(sandbox, hook):
    sandbox.receiver.program(hook, 500)
    order_id, _ = sandbox.create(hook=hook)
    sandbox.pay(order_id, "gopay", "settlement")
    log = sandbox.settle_deliveries(order_id)
    attempts = log["attempts"]
    assert [(a["transaction_status"], a["response_status"]) for a in attempts] == [
        ("pending", 500),
        ("settlement", 200),
        ("pending", 200),
    ]
    for a in attempts:
        assert a["url"] == sandbox.receiver.url(hook)
        assert a["body"]["order_id"] == order_id
        datetime.fromisoformat(a["sent_at"])
    assert [n["body"]["transaction_status"] for n in log["notifications"]] == [
        "pending",
        "settlement",
    ]


def test_replay_resends_the_last_notification(sandbox, hook):
    order_id, _ = sandbox.create(hook=hook)
    sandbox.pay(order_id, "bank_transfer", "settlement")
    sandbox.receiver.wait_for(hook, 2)
    response = sandbox.http.post(f"/_sandbox/orders/{order_id}/replay")
    assert response.status_code == 200
    assert len(response.json()["replayed"]) == 1
    received = sandbox.receiver.wait_for(hook, 3)
    assert received[2]["raw"] == received[1]["raw"]
    assert sandbox.settle_deliveries(order_id)["attempts"][-1]["kind"] == "replay"


def test_replay_all_shuffled_gives_duplicates_out_of_order(sandbox, hook):
    order_id, _ = sandbox.create(hook=hook)
    sandbox.pay(order_id, "credit_card", "challenge")
    sandbox.core("POST", f"/v2/{order_id}/approve")
    sandbox.pay(order_id, None, "settlement")
    original = [r["raw"] for r in sandbox.receiver.wait_for(hook, 3)]
    orders_seen = set()
    for _ in range(6):
        count = len(sandbox.receiver.received(hook)) + 3
        response = sandbox.http.post(
            f"/_sandbox/orders/{order_id}/replay", json={"all": True, "shuffle": True}
        )
        assert len(response.json()["replayed"]) == 3
        replayed = [r["raw"] for r in sandbox.receiver.wait_for(hook, count)[-3:]]
        assert sorted(replayed) == sorted(original)
        orders_seen.add(tuple(replayed))
    assert len(orders_seen) > 1  # shuffled, not always the original order


def test_replay_of_order_without_notifications_is_404(sandbox):
    assert sandbox.http.post("/_sandbox/orders/none-yet/replay").status_code == 404


def test_duplicate_fault_sends_each_notification_twice(sandbox, hook):
    assert sandbox.http.post("/_sandbox/faults", json={"duplicate_rate": 1.0}).status_code == 200
    order_id, _ = sandbox.create(hook=hook)
    sandbox.pay(order_id, "gopay", "settlement")
    received = sandbox.receiver.wait_for(hook, 4)
    statuses = sorted(r["body"]["transaction_status"] for r in received)
    assert statuses == ["pending", "pending", "settlement", "settlement"]
    kinds = [a["kind"] for a in sandbox.settle_deliveries(order_id)["attempts"]]
    assert kinds.count("duplicate") == 2


def test_delay_fault_delivers_late_and_out_of_order(sandbox, hook):
    sandbox.http.post("/_sandbox/faults", json={"delay_rate": 1.0, "delay_seconds": 0.3})
    order_id, _ = sandbox.create(hook=hook)
    sandbox.pay(order_id, "gopay", "pending")
    sandbox.http.post("/_sandbox/faults", json={"delay_rate": 0.0})
    sandbox.pay(order_id, None, "settlement")
    received = sandbox.receiver.wait_for(hook, 2)
    assert [r["body"]["transaction_status"] for r in received] == ["settlement", "pending"]


def test_fault_settings_are_validated_and_reset(sandbox):
    assert sandbox.http.post("/_sandbox/faults", json={"duplicate_rate": 2}).status_code == 400
    sandbox.http.post("/_sandbox/faults", json={"delay_rate": 0.5})
    assert sandbox.http.get("/_sandbox/faults").json()["delay_rate"] == 0.5
    sandbox.http.post("/_sandbox/reset")
    assert sandbox.http.get("/_sandbox/faults").json()["delay_rate"] == 0.0


def test_settlement_can_be_reversed_to_deny(sandbox, hook):
    order_id, _ = sandbox.create(hook=hook)
    sandbox.pay(order_id, "echannel", "settlement")
    assert sandbox.pay(order_id, None, "deny").status_code == 200
    received = sandbox.receiver.wait_for(hook, 3)
    assert [r["body"]["transaction_status"] for r in received] == ["pending", "settlement", "deny"]


def test_in_flight_counts_the_orders_own_deliveries(sandbox, hook):
    sandbox.receiver.program(hook, 503, 503, 503, 503, 503)
    busy, _ = sandbox.create(hook=hook)
    calm, _ = sandbox.create(hook=hook + "-calm")
    sandbox.pay(busy, "gopay", "pending")
    sandbox.pay(calm, "gopay", "pending")
    sandbox.receiver.wait_for(hook + "-calm", 1)
    sandbox.receiver.wait_for(hook, 2)
    assert sandbox.settle_deliveries(calm)["in_flight"] == 0
    assert sandbox.log(busy)["in_flight"] == 1
    assert sandbox.settle_deliveries(busy)["in_flight"] == 0


def test_unknown_order_in_control_api_is_404(sandbox):
    assert sandbox.http.get("/_sandbox/orders/nope").status_code == 404
