"""The e-ticket's QR PNG is the very code qrcode itself would draw for the payload."""

import io
import os
from base64 import urlsafe_b64encode

import pytest
import qrcode
from notification_gateway.adapters.qr import byte_mode_version, codewords, qr_modules, qr_png
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M
from qrcode.util import MODE_8BIT_BYTE, QRData, create_data


def a_payload(size: int) -> str:
    return ("TKT2." + urlsafe_b64encode(os.urandom(size)).decode())[:size]


@pytest.mark.parametrize("size", [1, 14, 120, 180, 205, 230, 400, 1200])
def test_the_version_is_the_smallest_that_holds_the_payload(size: int) -> None:
    fitted = qrcode.QRCode(error_correction=ERROR_CORRECT_M)
    fitted.add_data(QRData(a_payload(size).encode(), mode=MODE_8BIT_BYTE))
    fitted.make(fit=True)
    assert byte_mode_version(size) == fitted.version


@pytest.mark.parametrize("size", [1, 14, 120, 205, 400, 1200, 2300])
def test_the_codewords_are_qrcodes_own(size: int) -> None:
    """Data, filler and Reed-Solomon, interleaved over one to dozens of blocks."""
    data = a_payload(size).encode()
    version = byte_mode_version(size)
    qrcodes = create_data(version, ERROR_CORRECT_M, [QRData(data, mode=MODE_8BIT_BYTE)])
    assert codewords(data, version) == qrcodes


@pytest.mark.parametrize("size", [1, 14, 120, 205, 400, 1200])
def test_the_png_shows_qrcodes_own_drawing_pixel_for_pixel(size: int) -> None:
    """Versions 1 to 30: finders, alignment, timing, format and version information, data."""
    payload = a_payload(size)
    reference = qrcode.QRCode(
        version=byte_mode_version(size),
        error_correction=ERROR_CORRECT_M,
        box_size=8,
        border=4,
        mask_pattern=0,
    )
    reference.add_data(QRData(payload.encode(), mode=MODE_8BIT_BYTE))
    reference.make(fit=False)
    expected = reference.make_image().get_image().convert("1")

    drawn = Image.open(io.BytesIO(qr_png(payload)))
    assert drawn.format == "PNG"
    assert drawn.size == expected.size == ((len(qr_modules(payload))) * 8,) * 2
    assert drawn.convert("1").tobytes() == expected.tobytes()


def test_a_payload_too_long_for_any_qr_code_is_refused() -> None:
    with pytest.raises(ValueError, match="do not fit"):
        byte_mode_version(3000)
