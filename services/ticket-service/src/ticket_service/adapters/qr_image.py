"""Drawing a ticket's signed QR payload as an image (PNG through Pillow, or SVG)."""

import io
from functools import lru_cache

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M

# Medium error correction survives a scuffed phone screen; a box of 8 px with the standard
# 4-module quiet zone scans well from a door scanner at arm's length.
_BOX_SIZE = 8
_BORDER = 4


def _code(payload: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=_BOX_SIZE, border=_BORDER)
    code.add_data(payload)
    code.make(fit=True)
    return code


# Drawing takes ~17 ms of CPU (qrcode tries all eight masks); a holder's app asks for the same
# image again and again, so the last images drawn are kept (about 1 KB each).
@lru_cache(maxsize=2048)
def render_png(payload: str) -> bytes:
    buffer = io.BytesIO()
    _code(payload).make_image().save(buffer, format="PNG")
    return buffer.getvalue()


@lru_cache(maxsize=512)
def render_svg(payload: str) -> bytes:
    image = _code(payload).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()
