"""The ticket's QR code as a PNG image, drawn from the signed payload (never verified here).

Drawing was most of an e-ticket's CPU (about 17 ms): qrcode tries all eight mask patterns and
paints every module as a rectangle. Here the modules are laid out once with one fixed mask (any
of the eight is a valid QR code; the choice only tunes contrast patterns), the image is one
pixel per module scaled up by Pillow, and the last images drawn are kept, so a retried or
re-sent e-ticket does not draw again.
"""

import io
from functools import lru_cache

import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M

_MASK_PATTERN = 0


@lru_cache(maxsize=1024)
def qr_png(payload: str, *, box_size: int = 8, border: int = 4) -> bytes:
    code = qrcode.QRCode(
        error_correction=ERROR_CORRECT_M,
        box_size=box_size,
        border=border,
        mask_pattern=_MASK_PATTERN,
    )
    code.add_data(payload)
    code.make(fit=True)
    modules = code.get_matrix()  # with the quiet zone, True = dark
    side = len(modules)
    pixels = bytes(0 if dark else 255 for row in modules for dark in row)
    image = Image.frombytes("L", (side, side), pixels).convert("1")
    image = image.resize((side * box_size, side * box_size), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
