"""Scans at the door (ticket.checked_in v3): the holder's welcome once, every scan to the host."""

from pathlib import Path

from notification_gateway.domain.model import Audience, Channel
from notification_gateway.service_layer.compose import compose, public_data, recipients
from ticketing_contracts import EventEnvelope, TicketCheckedInV3, parse_payload

SAMPLES = Path(__file__).resolve().parents[4] / "libs" / "contracts" / "samples"


def scan(**changes: object) -> TicketCheckedInV3:
    envelope = EventEnvelope.model_validate_json(
        (SAMPLES / "ticket.checked_in.v3.json").read_text()
    )
    payload = parse_payload(envelope)
    assert isinstance(payload, TicketCheckedInV3)
    return payload.model_copy(update=changes)


def test_first_entry_welcomes_the_holder_and_reaches_the_hosts_stream_only() -> None:
    told = recipients(scan())
    assert [(r.user_id, r.audience) for r in told] == [
        ("user-42", Audience.HOLDER),
        ("host-7", Audience.HOST),
    ]
    assert told[1].channels == frozenset({Channel.STREAM})
    message = compose(scan(), Audience.HOST, "en")
    assert message.title == "Siti Rahma in"
    assert message.body.startswith("Jakarta Jazz Night: gate festival-gate,")
    data = public_data(scan())
    assert (data["list_id"], data["direction"], data["offline"]) == ("festival-gate", "in", "true")


def test_exits_and_re_entries_go_to_the_host_alone() -> None:
    for payload in (scan(direction="out"), scan(reentry=True)):
        assert [r.audience for r in recipients(payload)] == [Audience.HOST]
    assert compose(scan(direction="out"), Audience.HOST, "id").title == "Siti Rahma keluar"
