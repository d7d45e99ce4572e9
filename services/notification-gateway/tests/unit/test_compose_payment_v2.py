"""Payment events v2 and the two new ones: declined (try again) and a refund that moved."""

from pathlib import Path

from notification_gateway.domain.model import Audience, Channel
from notification_gateway.service_layer.compose import compose, recipients
from ticketing_contracts import EventEnvelope, EventPayload, PaymentRefundUpdated, parse_payload

SAMPLES = Path(__file__).resolve().parents[4] / "libs" / "contracts" / "samples"


def sample(name: str) -> EventPayload:
    envelope = EventEnvelope.model_validate_json((SAMPLES / f"{name}.json").read_text())
    return parse_payload(envelope)


def refund(status: str) -> PaymentRefundUpdated:
    payload = sample("payment.refund_updated.v1")
    assert isinstance(payload, PaymentRefundUpdated)
    return payload.model_copy(update={"refund_status": status})


def test_v2_payment_events_read_like_their_v1_parents() -> None:
    for name in ("payment.pending", "payment.failed", "payment.refunded"):
        v1 = compose(sample(f"{name}.v1"), Audience.HOLDER, "id")
        v2 = compose(sample(f"{name}.v2"), Audience.HOLDER, "id")
        assert v2.title == v1.title, name
        assert recipients(sample(f"{name}.v2"))[0].channels == frozenset(Channel), name


def test_a_declined_card_says_try_again_by_push_and_stream_not_e_mail() -> None:
    declined = sample("payment.declined.v1")
    [who] = recipients(declined)
    assert who.channels == frozenset({Channel.PUSH, Channel.STREAM})
    message = compose(declined, Audience.HOLDER, "id")
    assert message.title == "Pembayaran ditolak, silakan coba lagi: Jakarta Jazz Night"
    assert "Kursi Anda masih kami tahan" in message.body
    assert "Do not honour" in dict(message.details)["Alasan"]
    english = compose(declined, Audience.HOLDER, "en")
    assert english.title == "Payment declined, please try again: Jakarta Jazz Night"
    assert "Your seat is still held" in english.body


def test_a_payout_refund_asks_for_the_bank_account_on_every_channel() -> None:
    [who] = recipients(refund("awaiting_payout"))
    assert who.channels == frozenset(Channel)
    assert who.email == "siti@example.id"
    message = compose(refund("awaiting_payout"), Audience.HOLDER, "id")
    assert message.title.startswith("Kirim rekening bank Anda")
    assert "Rp150.000" in message.body
    assert compose(refund("awaiting_payout"), Audience.HOLDER, "en").title.startswith(
        "Send your bank account"
    )


def test_money_back_is_told_and_shares_one_mail_with_payment_refunded() -> None:
    paid_out = refund("paid_out").model_copy(update={"reference": "BCA-TRF-0042"})
    assert (
        compose(paid_out, Audience.HOLDER, "id").title
        == "Dana sudah ditransfer: Jakarta Jazz Night"
    )
    assert ("Referensi transfer", "BCA-TRF-0042") in compose(
        paid_out, Audience.HOLDER, "id"
    ).details
    succeeded = refund("succeeded")
    assert (
        compose(succeeded, Audience.HOLDER, "en").title == "Your money is back: Jakarta Jazz Night"
    )
    [told] = recipients(succeeded)
    [refunded] = recipients(sample("payment.refunded.v2"))
    assert told.collapse_key == refunded.collapse_key == "refund-back:TIX-7d1f0c1e-1:150000"


def test_refund_steps_the_buyer_need_not_act_on_are_not_told() -> None:
    for status in ("requested", "pending", "failed"):
        assert recipients(refund(status)) == [], status
