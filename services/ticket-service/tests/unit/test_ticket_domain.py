"""The pure rules: states, attendance codes, money, QR signatures, sale windows, seats, settings."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from servicekit.settings import InsecureSettings
from ticket_service.domain.attendance_codes import (
    ALPHABET,
    CODE_SPACE,
    MAX_CAPACITY,
    new_attendance_code,
    normalise_attendance_code,
)
from ticket_service.domain.errors import CapacityBelowTaken, SalesClosed, SalesNotOpen, SoldOut
from ticket_service.domain.money import NotWholeRupiah, to_rupiah
from ticket_service.domain.qr_codes import InvalidQrCode, sign_qr_payload, verify_qr_payload
from ticket_service.domain.ticketed_events import SaleWindow, Seats
from ticket_service.domain.tickets import (
    IllegalTransition,
    TicketStatus,
    can_move,
    check_move,
    order_id_for,
)
from ticket_service.settings import TicketSettings, parse_signing_keys

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
KEYS = [("k2", b"current-secret"), ("k1", b"previous-secret")]


# --- states ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("pending", "active"),
        ("pending", "cancelled"),
        ("pending", "expired"),
        ("active", "refunded"),
        ("active", "cancelled"),
        ("expired", "active"),
        ("expired", "cancelled"),
        ("cancelled", "refunded"),
    ],
)
def test_allowed_ticket_moves(current: str, target: str) -> None:
    assert can_move(TicketStatus(current), TicketStatus(target))


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("active", "pending"),
        ("active", "expired"),
        ("refunded", "active"),
        ("cancelled", "active"),
        ("expired", "pending"),
    ],
)
def test_forbidden_ticket_moves_are_refused(current: str, target: str) -> None:
    with pytest.raises(IllegalTransition):
        check_move(TicketStatus(current), TicketStatus(target))


def test_order_id_is_midtrans_safe_and_stable() -> None:
    order_id = order_id_for("0b5c3c53-8f1e-4a59-9f0e-0d7f1f6b2a11")
    assert order_id == "TKT-0b5c3c53-8f1e-4a59-9f0e-0d7f1f6b2a11"
    assert len(order_id) <= 50 and re.fullmatch(r"[A-Za-z0-9\-_~.]+", order_id)


# --- attendance codes ---------------------------------------------------------------------------


def test_codes_have_four_characters_without_look_alikes() -> None:
    assert not set("0O1IL") & set(ALPHABET)
    codes = {new_attendance_code() for _ in range(2000)}
    assert all(len(c) == 4 and set(c) <= set(ALPHABET) for c in codes)
    assert len(codes) > 1990  # random, not a sequence


def test_capacity_keeps_codes_sparse_within_an_event() -> None:
    assert MAX_CAPACITY / CODE_SPACE < 0.11


@pytest.mark.parametrize(("typed", "code"), [(" a3f7 ", "A3F7"), ("xyz9", "XYZ9")])
def test_a_typed_code_is_normalised(typed: str, code: str) -> None:
    assert normalise_attendance_code(typed) == code


@pytest.mark.parametrize("typed", ["A0F7", "AIF7", "ABC", "ABCDE", ""])
def test_a_code_that_cannot_exist_is_none(typed: str) -> None:
    assert normalise_attendance_code(typed) is None


# --- money ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "rupiah"), [(50000, 50000), (50000.0, 50000), ("75000", 75000)])
def test_integral_amounts_are_rupiah(given: object, rupiah: int) -> None:
    assert to_rupiah(given) == rupiah


@pytest.mark.parametrize("given", [50000.5, "12.3", True, -1, "abc", float("nan")])
def test_fractions_booleans_negatives_and_junk_are_refused(given: object) -> None:
    with pytest.raises(NotWholeRupiah):
        to_rupiah(given)


# --- QR payloads --------------------------------------------------------------------------------


def test_qr_payload_has_the_agreed_format_and_verifies() -> None:
    payload = sign_qr_payload("t-1", "A3F7", KEYS)
    prefix, ticket_id, code, key_id, signature = payload.split(".")
    assert (prefix, ticket_id, code, key_id) == ("TKT1", "t-1", "A3F7", "k2")
    assert "=" not in signature and len(signature) == 43
    claims = verify_qr_payload(payload, KEYS)
    assert (claims.ticket_id, claims.attendance_code, claims.key_id) == ("t-1", "A3F7", "k2")


def test_a_payload_signed_with_the_previous_key_still_verifies() -> None:
    old = sign_qr_payload("t-1", "A3F7", KEYS[1:])
    assert verify_qr_payload(old, KEYS).key_id == "k1"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: p.replace("A3F7", "A3F8"),
        lambda p: p.replace(".k2.", ".k9."),
        lambda p: p[:-2] + "xx",
        lambda p: "TKT2" + p[4:],
        lambda p: "A3F7",
    ],
)
def test_a_forged_or_altered_payload_is_refused(tamper: object) -> None:
    payload = sign_qr_payload("t-1", "A3F7", KEYS)
    assert callable(tamper)
    with pytest.raises(InvalidQrCode):
        verify_qr_payload(tamper(payload), KEYS)


# --- sale window and seats ------------------------------------------------------------------------


def test_sales_close_when_the_event_starts_without_an_explicit_end() -> None:
    window = SaleWindow(starts_at=NOW + timedelta(hours=1), sales_start=None, sales_end=None)
    window.check_open(NOW)
    with pytest.raises(SalesClosed):
        window.check_open(NOW + timedelta(hours=1))


def test_sales_not_open_before_sales_start() -> None:
    window = SaleWindow(NOW + timedelta(days=9), NOW + timedelta(days=1), NOW + timedelta(days=2))
    with pytest.raises(SalesNotOpen):
        window.check_open(NOW)
    assert window.is_open(NOW + timedelta(days=1, hours=1))


def test_seats_count_sold_and_held() -> None:
    seats = Seats(capacity=3, sold=1, held=2)
    assert seats.available == 0
    with pytest.raises(SoldOut):
        seats.check_free()
    seats.check_new_capacity(3)
    with pytest.raises(CapacityBelowTaken):
        seats.check_new_capacity(2)


# --- settings ---------------------------------------------------------------------------------


def test_signing_keys_parse_in_order_first_signs() -> None:
    assert parse_signing_keys("kid1:secret1, kid0:secret0") == [
        ("kid1", b"secret1"),
        ("kid0", b"secret0"),
    ]


@pytest.mark.parametrize("raw", ["nosecret", "a:1,a:2", "k.1:secret", ":secret"])
def test_malformed_signing_keys_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match=r"QR|key"):
        parse_signing_keys(raw)


def test_production_refuses_the_development_qr_key() -> None:
    with pytest.raises(InsecureSettings, match="qr_signing_keys"):
        TicketSettings(app_env="production", jwt_secret="x" * 40)


def test_a_hold_shorter_than_midtrans_minimum_is_refused() -> None:
    with pytest.raises(ValueError, match="hold_minutes"):
        TicketSettings(hold_minutes=0.5)


def test_production_refuses_a_development_qr_key_left_in_the_rotation_list() -> None:
    strong = "k" * 40
    with pytest.raises(InsecureSettings, match="dev1"):
        TicketSettings(
            app_env="production",
            jwt_secret="x" * 40,
            service_token_secret="s" * 40,
            qr_signing_keys=f"live2:{strong},dev1:dev-only-qr-signing-key-change-me",
        )
    with pytest.raises(InsecureSettings, match="short"):
        TicketSettings(
            app_env="production",
            jwt_secret="x" * 40,
            service_token_secret="s" * 40,
            qr_signing_keys=f"live2:{strong},live1:short",
        )
    settings = TicketSettings(
        app_env="production",
        jwt_secret="x" * 40,
        service_token_secret="s" * 40,
        qr_signing_keys=f"live2:{strong},live1:{'j' * 32}",
    )
    assert [kid for kid, _ in settings.signing_keys] == ["live2", "live1"]
