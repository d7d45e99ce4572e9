"""The QR image carries exactly the signed payload: the PNG's modules match the payload's code."""

import io

import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M
from ticket_service.adapters.qr_image import render_png, render_svg

PAYLOAD = "TKT1.0b7f2c1e-1111-4222-8333-444455556666.A3F7.k1.c2lnbmF0dXJlLWJ5dGVz"


def modules_of_png(png: bytes, box: int = 8, border: int = 4) -> list[list[bool]]:
    image = Image.open(io.BytesIO(png)).convert("L")
    count = image.width // box - 2 * border
    return [
        [
            image.getpixel(((border + x) * box + box // 2, (border + y) * box + box // 2)) == 0
            for x in range(count)
        ]
        for y in range(count)
    ]


def test_png_draws_the_payload() -> None:
    png = render_png(PAYLOAD)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    expected = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    expected.add_data(PAYLOAD)
    expected.make(fit=True)
    assert modules_of_png(png) == expected.get_matrix()


def test_svg_is_an_svg_document() -> None:
    svg = render_svg(PAYLOAD)
    assert b"<svg" in svg
    assert b"<path" in svg
