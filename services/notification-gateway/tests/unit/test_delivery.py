"""Sending claimed deliveries with in-memory ports: each channel, and what each outcome records;
the buyer's order e-mail with its receipt, held back while ticket-service cannot answer."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from notification_gateway.domain.model import (
    Audience,
    Channel,
    Language,
    Message,
    Outcome,
    OutgoingEmail,
    PermanentFailure,
    Sent,
    TemporaryFailure,
)
from notification_gateway.domain.notifications import Delivery, JsonObject, Notification
from notification_gateway.domain.receipts import Receipt, ReceiptUnavailable
from notification_gateway.service_layer.delivery import DeliveryPolicy, Dispatcher
from notification_gateway.service_layer.ports import DeliveryLog
from rendered_mail import parsed
from ticketing_contracts import EventEnvelope

SAMPLES = Path(__file__).resolve().parents[4] / "libs" / "contracts" / "samples"
ACTIVATED = EventEnvelope.model_validate_json((SAMPLES / "ticket.activated.v1.json").read_text())
ORDER = EventEnvelope.model_validate_json((SAMPLES / "order.activated.v1.json").read_text())
T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
POLICY = DeliveryPolicy(
    batch_size=4,
    max_attempts=3,
    retry_base_seconds=2.0,
    retry_max_seconds=60.0,
    lease_seconds=30.0,
    mail_from="Tiket <tiket@example.id>",
)
NOTIFICATION = Notification(
    id=11,
    event_id=ACTIVATED.event_id,
    event_type=ACTIVATED.event_type,
    event_version=ACTIVATED.version,
    user_id="user-42",
    audience=Audience.HOLDER,
    language="id",
    title="E-tiket Anda: Jakarta Jazz Night",
    body="Sampai jumpa di acara.",
    data={"ticket_id": "t-1"},
    occurred_at=T0,
    created_at=T0,
)


def due(channel: Channel, target: str, *, attempts: int = 1, delivery_id: int = 1) -> Delivery:
    return Delivery(delivery_id, channel, target, attempts, NOTIFICATION, ACTIVATED.payload)


def order_mail(
    *, user_id: str = "user-42", language: Language = "id", attempts: int = 1, **changes: object
) -> Delivery:
    """The e-mail of order.activated to `user_id` (the buyer, or `attendee:<address>`)."""
    notification = replace(
        NOTIFICATION,
        event_id=ORDER.event_id,
        event_type=ORDER.event_type,
        event_version=ORDER.version,
        user_id=user_id,
        language=language,
    )
    payload = {**ORDER.payload, **changes}
    return Delivery(1, Channel.EMAIL, "siti@example.id", attempts, notification, payload)


@dataclass
class FakeReceipts:
    """ticket-service's receipts: a PDF per order; `down` makes every answer unavailable."""

    pdfs: dict[str, Receipt] = field(default_factory=dict)
    down: bool = False
    asked: list[tuple[str, Language]] = field(default_factory=list)

    async def receipt_of(self, purchase_order_id: str, language: Language) -> Receipt | None:
        self.asked.append((purchase_order_id, language))
        if self.down:
            raise ReceiptUnavailable("ticket-service answered 503")
        return self.pdfs.get(purchase_order_id)


RECEIPT = Receipt(number="KW/2026/000007", pdf=b"%PDF-1.3 the receipt")


@dataclass
class InMemoryDeliveryLog:
    due: list[Delivery] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    retries: dict[int, tuple[str, float]] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)

    async def claim_due_deliveries(self, *, limit: int, lease_seconds: float) -> list[Delivery]:
        claimed, self.due = self.due[:limit], self.due[limit:]
        return claimed

    async def mark_sent(self, delivery_id: int) -> None:
        self.sent.append(delivery_id)

    async def mark_failed(self, delivery_id: int, *, error: str) -> None:
        self.failed[delivery_id] = error

    async def schedule_retry(self, delivery_id: int, *, error: str, delay_seconds: float) -> None:
        self.retries[delivery_id] = (error, delay_seconds)

    async def drop_device(self, token: str) -> None:
        self.dropped.append(token)

    @asynccontextmanager
    async def opened(self) -> AsyncIterator[DeliveryLog]:
        yield self


@dataclass
class Outbound:
    """The mailer, the push sender, the e-mail renderer and the stream, answering `outcome`."""

    outcome: Outcome = field(default_factory=Sent)
    mails: list[EmailMessage] = field(default_factory=list)
    """What was sent, read back as messages."""
    messages: list[Message] = field(default_factory=list)
    pushes: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    appended: list[tuple[str, int, JsonObject]] = field(default_factory=list)

    async def send(self, email: OutgoingEmail) -> Outcome:
        self.mails.append(parsed(email))
        return self.outcome

    async def push(self, *, token: str, title: str, body: str, data: dict[str, str]) -> Outcome:
        self.pushes.append((token, title, data))
        return self.outcome

    def render(
        self, message: Message, *, language: Language, sender: str, recipient: str, message_key: str
    ) -> OutgoingEmail:
        self.messages.append(message)
        email = EmailMessage()
        email["Subject"], email["From"], email["To"] = message.title, sender, recipient
        email["Message-ID"] = message_key
        return OutgoingEmail(sender=sender, recipient=recipient, raw=email.as_bytes())

    async def append(
        self, *, user_id: str, delivery_id: int, event: str, notification: JsonObject
    ) -> str | None:
        self.appended.append((user_id, delivery_id, notification))
        return "1764558301123-0"


@dataclass
class PushPort:
    outbound: Outbound

    async def send(self, *, token: str, title: str, body: str, data: dict[str, str]) -> Outcome:
        return await self.outbound.push(token=token, title=title, body=body, data=data)


def dispatcher(
    log: InMemoryDeliveryLog,
    outbound: Outbound,
    *,
    push: bool = True,
    receipts: FakeReceipts | None = None,
) -> Dispatcher:
    return Dispatcher(
        log.opened,
        mailer=outbound,
        render_email=outbound.render,
        push=PushPort(outbound) if push else None,
        stream=outbound,
        receipts=receipts or FakeReceipts(),
        policy=POLICY,
    )


async def deliver(
    log: InMemoryDeliveryLog,
    outbound: Outbound,
    *,
    push: bool = True,
    receipts: FakeReceipts | None = None,
) -> int:
    sender = dispatcher(log, outbound, push=push, receipts=receipts)
    started = await sender.deliver_due()
    await sender.drain(grace_seconds=1.0)
    return started


async def test_an_e_mail_is_composed_from_the_event_and_sent_to_the_target() -> None:
    log, outbound = InMemoryDeliveryLog([due(Channel.EMAIL, "siti@example.id")]), Outbound()
    assert await deliver(log, outbound) == 1
    (email,) = outbound.mails
    assert email["To"] == "siti@example.id"
    assert email["Subject"] == "E-tiket Anda: Jakarta Jazz Night"
    assert email["From"] == POLICY.mail_from
    assert email["Message-ID"] == f"{ACTIVATED.event_id}.11"
    assert log.sent == [1]


async def test_a_push_carries_the_public_data_the_event_type_and_the_notification_id() -> None:
    log, outbound = InMemoryDeliveryLog([due(Channel.PUSH, "phone-token-1")]), Outbound()
    await deliver(log, outbound)
    assert outbound.pushes == [
        (
            "phone-token-1",
            NOTIFICATION.title,
            {"ticket_id": "t-1", "event_type": "ticket.activated", "notification_id": "11"},
        )
    ]
    assert log.sent == [1]


async def test_the_stream_gets_the_notification_as_the_list_shows_it() -> None:
    log, outbound = InMemoryDeliveryLog([due(Channel.STREAM, "user-42", delivery_id=5)]), Outbound()
    await deliver(log, outbound)
    assert outbound.appended == [("user-42", 5, NOTIFICATION.public())]
    assert log.sent == [5]


async def test_a_temporary_failure_is_retried_with_backoff() -> None:
    log = InMemoryDeliveryLog([due(Channel.EMAIL, "siti@example.id", attempts=2)])
    await deliver(log, Outbound(TemporaryFailure("SMTP 421 busy")))
    assert log.retries == {1: ("SMTP 421 busy", 4.0)}
    assert log.sent == [] and log.failed == {}


async def test_the_last_allowed_attempt_gives_up() -> None:
    log = InMemoryDeliveryLog([due(Channel.EMAIL, "siti@example.id", attempts=3)])
    await deliver(log, Outbound(TemporaryFailure("SMTP 421 busy")))
    assert log.failed == {1: "gave up after 3 attempts: SMTP 421 busy"}
    assert log.retries == {}


async def test_a_permanent_failure_is_recorded_at_once() -> None:
    log = InMemoryDeliveryLog([due(Channel.EMAIL, "nobody@example.id")])
    await deliver(log, Outbound(PermanentFailure("SMTP 550 no such user")))
    assert log.failed == {1: "SMTP 550 no such user"}
    assert log.dropped == []


async def test_a_device_token_fcm_calls_dead_is_dropped() -> None:
    log = InMemoryDeliveryLog([due(Channel.PUSH, "dead-token-1")])
    await deliver(log, Outbound(PermanentFailure("FCM 404 UNREGISTERED", drop_device=True)))
    assert log.failed == {1: "FCM 404 UNREGISTERED"}
    assert log.dropped == ["dead-token-1"]


async def test_push_turned_off_fails_a_push_delivery_for_good() -> None:
    log = InMemoryDeliveryLog([due(Channel.PUSH, "phone-token-1")])
    await deliver(log, Outbound(), push=False)
    assert log.failed == {1: "push is turned off (FCM_ENDPOINT is empty)"}


async def test_a_sender_that_raises_counts_as_a_temporary_failure() -> None:
    class Broken(Outbound):
        async def send(self, email: OutgoingEmail) -> Outcome:
            raise ConnectionResetError("peer went away")

    log = InMemoryDeliveryLog([due(Channel.EMAIL, "siti@example.id")])
    await deliver(log, Broken())
    assert log.retries == {1: ("ConnectionResetError: peer went away", 2.0)}


async def test_one_round_claims_no_more_than_the_free_slots_and_asks_for_another() -> None:
    log = InMemoryDeliveryLog([due(Channel.STREAM, "user-42", delivery_id=n) for n in range(1, 7)])
    sender = dispatcher(log, Outbound())
    assert await sender.deliver_due() == POLICY.batch_size
    assert sender.wake.is_set()  # more may be waiting
    await sender.drain(grace_seconds=1.0)
    assert await sender.deliver_due() == 2
    await sender.drain(grace_seconds=1.0)
    assert sorted(log.sent) == [1, 2, 3, 4, 5, 6]


PURCHASE_ORDER = str(ORDER.payload["purchase_order_id"])


async def test_the_buyers_order_e_mail_carries_the_receipt_in_their_language() -> None:
    receipts = FakeReceipts({PURCHASE_ORDER: RECEIPT})
    log, outbound = InMemoryDeliveryLog([order_mail(language="en")]), Outbound()
    await deliver(log, outbound, receipts=receipts)
    assert receipts.asked == [(PURCHASE_ORDER, "en")]
    (message,) = outbound.messages
    (attachment,) = message.attachments
    assert attachment.filename == "receipt-KW-2026-000007.pdf"
    assert (attachment.content_type, attachment.content) == ("application/pdf", RECEIPT.pdf)
    assert message.paragraphs[-1] == "Your receipt (KW/2026/000007) is attached as a PDF."
    assert log.sent == [1]


async def test_attendees_and_free_orders_are_mailed_without_asking_for_a_receipt() -> None:
    receipts = FakeReceipts({PURCHASE_ORDER: RECEIPT})
    log = InMemoryDeliveryLog(
        [order_mail(user_id="attendee:budi@example.id"), order_mail(total=0, discount=0)]
    )
    outbound = Outbound()
    await deliver(log, outbound, receipts=receipts)
    assert receipts.asked == []
    assert [m.attachments for m in outbound.messages] == [(), ()]
    assert len(outbound.mails) == 2


async def test_an_order_ticket_service_has_no_receipt_for_is_mailed_without_one() -> None:
    receipts = FakeReceipts()  # it answers 404 or 409
    log, outbound = InMemoryDeliveryLog([order_mail()]), Outbound()
    await deliver(log, outbound, receipts=receipts)
    assert receipts.asked == [(PURCHASE_ORDER, "id")]
    (message,) = outbound.messages
    assert message.attachments == ()
    assert log.sent == [1]


async def test_an_unavailable_receipt_holds_the_e_mail_back_for_a_retry() -> None:
    log, outbound = InMemoryDeliveryLog([order_mail(attempts=2)]), Outbound()
    await deliver(log, outbound, receipts=FakeReceipts(down=True))
    assert outbound.mails == []
    assert log.retries == {1: ("receipt: ticket-service answered 503", 4.0)}
    assert log.sent == [] and log.failed == {}


async def test_the_last_allowed_attempt_sends_the_e_tickets_without_the_receipt() -> None:
    log = InMemoryDeliveryLog([order_mail(attempts=POLICY.max_attempts)])
    outbound = Outbound()
    await deliver(log, outbound, receipts=FakeReceipts(down=True))
    (message,) = outbound.messages
    assert message.attachments == () and len(message.tickets) == 2
    assert log.sent == [1]
