"""The contracts keep their promises: schemas match the models, old messages stay readable."""

import json
from pathlib import Path

import jsonschema
import pytest
from pydantic import ValidationError
from ticketing_contracts import (
    CONSUMER_QUEUES,
    PAYLOAD_MODELS,
    EventEnvelope,
    EventType,
    PaymentSettled,
    TicketActivated,
    new_event,
    parse_payload,
)
from ticketing_contracts.schemas import SCHEMA_DIR, current_schemas, render

SAMPLES = sorted((Path(__file__).parents[1] / "samples").glob("*.json"))


@pytest.mark.parametrize("name", sorted(current_schemas()))
def test_committed_schema_matches_the_model(name: str) -> None:
    committed = SCHEMA_DIR / name
    assert committed.exists(), f"{name} missing: run python -m ticketing_contracts.schemas"
    assert committed.read_text() == render(current_schemas()[name]), (
        f"{name} drifted from its model: run python -m ticketing_contracts.schemas and review"
    )


def test_no_stale_schema_file_is_left_behind() -> None:
    assert {p.name for p in SCHEMA_DIR.glob("*.json")} == set(current_schemas())


def test_every_event_type_has_a_payload_model_and_a_golden_sample() -> None:
    assert {t for t, _ in PAYLOAD_MODELS} == {str(t) for t in EventType}
    assert {p.name for p in SAMPLES} == {f"{t}.v{v}.json" for t, v in PAYLOAD_MODELS}


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_golden_sample_still_parses_and_ignores_unknown_fields(sample: Path) -> None:
    raw = json.loads(sample.read_text())
    envelope = EventEnvelope.model_validate(raw)
    payload = parse_payload(envelope)
    assert envelope.event_type == payload.EVENT_TYPE
    assert "field_from_the_future" not in payload.model_dump()
    schema = json.loads(
        (SCHEMA_DIR / f"{envelope.event_type}.v{envelope.version}.json").read_text()
    )
    jsonschema.validate(raw["payload"], schema)


@pytest.mark.parametrize(
    "sample", [p for p in SAMPLES if not p.name.endswith(".v1.json")], ids=lambda p: p.name
)
def test_a_reader_of_every_older_version_still_reads_a_newer_event(sample: Path) -> None:
    raw = json.loads(sample.read_text())
    newer = parse_payload(EventEnvelope.model_validate(raw))
    for version in range(1, raw["version"]):
        old = PAYLOAD_MODELS[(raw["event_type"], version)].model_validate(raw["payload"])
        assert old.model_dump() == newer.model_dump(include=set(old.model_dump()))


def test_new_event_round_trips_through_json() -> None:
    payload = PaymentSettled(
        order_id="TIX-1",
        ticket_id="t-1",
        event_id="e-1",
        user_id="u-1",
        amount=150000,
        customer_name="Budi",
        customer_email="budi@example.id",
        settled_at="2026-12-01T10:00:00+07:00",  # type: ignore[arg-type]
    )
    envelope = new_event(payload, producer="payment-service", correlation_id="req-1")
    assert envelope.event_type == "payment.settled"
    wire = envelope.model_dump_json()
    again = EventEnvelope.model_validate_json(wire)
    assert again.event_id == envelope.event_id
    assert parse_payload(again) == payload


def test_money_is_whole_rupiah_never_a_fraction() -> None:
    with pytest.raises(ValidationError):
        TicketActivated.model_validate(
            {**_activated_fields(), "price_paid": 1500.5},
        )


def test_unknown_version_is_refused_not_guessed() -> None:
    raw = json.loads((SAMPLES[0]).read_text())
    raw["version"] = 99
    with pytest.raises(KeyError):
        parse_payload(EventEnvelope.model_validate(raw))


def test_every_event_type_reaches_at_least_one_consumer_queue() -> None:
    def routed(event_type: str) -> bool:
        for binding in CONSUMER_QUEUES:
            for key in binding.routing_keys:
                prefix = key.removesuffix("*")
                if key == event_type or (key.endswith(".*") and event_type.startswith(prefix)):
                    return True
        return False

    assert all(routed(t) for t in EventType)


def _activated_fields() -> dict[str, object]:
    return {
        "ticket_id": "t-1",
        "event_id": "e-1",
        "user_id": "u-1",
        "attendance_code": "K7P3",
        "holder_name": "Budi",
        "holder_email": "budi@example.id",
        "event_title": "Konser",
        "event_starts_at": "2026-12-20T19:00:00+07:00",
        "price_paid": 1500,
        "activated_at": "2026-12-01T10:00:00+07:00",
        "qr_payload": "x",
    }
