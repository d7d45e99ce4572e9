"""The sink as a real process: SMTP in, JSON and a page out, and the failures it fakes."""

import tempfile
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import httpx
import pytest
from servicekit.testing import ServiceProcess, free_port


@pytest.fixture(scope="module")
async def sink() -> AsyncIterator[tuple[int, httpx.AsyncClient]]:
    smtp_port, http_port = free_port(), free_port()
    process = ServiceProcess(
        ["-m", "mail_sink", "--smtp-port", str(smtp_port), "--http-port", str(http_port)],
        env={},
        ready_url=f"http://127.0.0.1:{http_port}/healthz",
        log_path=Path(tempfile.mkdtemp()) / "mail-sink.log",
    )
    async with process, httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}") as client:
        yield smtp_port, client


def _message(to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Tiket <no-reply@tiket.test>"
    message["To"] = to
    message["Subject"] = "E-tiket Anda"
    message.set_content("Kode kehadiran K7P3")
    message.add_alternative("<p>Kode <b>K7P3</b><img src='cid:qr'></p>", subtype="html")
    html_part = message.get_payload()[1]
    html_part.add_related(b"\x89PNG\r\n\x1a\nfake", "image", "png", cid="<qr>")
    return message


async def test_received_mail_is_listed_with_its_parts_and_shown_on_the_page(
    sink: tuple[int, httpx.AsyncClient],
) -> None:
    smtp_port, client = sink
    await aiosmtplib.send(_message("siti@example.id"), hostname="127.0.0.1", port=smtp_port)

    listed = (await client.get("/messages", params={"to": "siti@example.id"})).json()["data"]
    assert len(listed) == 1
    mail = listed[0]
    assert mail["to"] == ["siti@example.id"]
    assert mail["subject"] == "E-tiket Anda"
    assert "K7P3" in mail["text"]
    assert "<b>K7P3</b>" in mail["html"]
    [image] = mail["attachments"]
    assert image["content_type"] == "image/png"
    assert image["content_id"] == "qr"
    assert image["size"] == len(b"\x89PNG\r\n\x1a\nfake")
    part = await client.get(f"/messages/{mail['id']}/parts/{image['index']}")
    assert part.content == b"\x89PNG\r\n\x1a\nfake"
    page = await client.get("/")
    assert page.status_code == 200
    assert "E-tiket Anda" in page.text
    rendered = await client.get(f"/messages/{mail['id']}/html")
    assert f"/messages/{mail['id']}/parts/{image['index']}" in rendered.text


async def test_faked_temporary_then_permanent_failures_are_answered_then_mail_is_kept(
    sink: tuple[int, httpx.AsyncClient],
) -> None:
    smtp_port, client = sink
    to = "flaky@example.id"
    await client.post("/control/failures", json={"code": 451, "count": 1, "recipient": to})
    await client.post("/control/failures", json={"code": 550, "count": 1, "recipient": to})

    codes = []
    for _ in range(2):
        with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
            await aiosmtplib.send(_message(to), hostname="127.0.0.1", port=smtp_port)
        codes.append(refused.value.code)
    # A message to someone else is not affected by the rules above.
    await aiosmtplib.send(_message("other@example.id"), hostname="127.0.0.1", port=smtp_port)
    await aiosmtplib.send(_message(to), hostname="127.0.0.1", port=smtp_port)

    assert codes == [451, 550]
    assert len((await client.get("/messages", params={"to": to})).json()["data"]) == 1
    rules = (await client.get("/control/failures")).json()["data"]
    assert [r["answered"] for r in rules if r["recipient"] == to] == [1, 1]


async def test_clearing_empties_the_inbox(sink: tuple[int, httpx.AsyncClient]) -> None:
    smtp_port, client = sink
    await aiosmtplib.send(_message("x@example.id"), hostname="127.0.0.1", port=smtp_port)
    assert (await client.delete("/messages")).status_code == 204
    assert (await client.get("/messages")).json()["data"] == []


async def test_the_count_follows_what_was_kept(sink: tuple[int, httpx.AsyncClient]) -> None:
    smtp_port, client = sink
    await client.delete("/messages")
    for to in ("a@example.id", "b@example.id", "a@example.id"):
        await aiosmtplib.send(_message(to), hostname="127.0.0.1", port=smtp_port)
    assert (await client.get("/messages/count")).json()["data"] == {"count": 3}
    counted = await client.get("/messages/count", params={"to": "A@example.id"})
    assert counted.json()["data"] == {"count": 2}
    assert len((await client.get("/messages")).json()["data"]) == 3
