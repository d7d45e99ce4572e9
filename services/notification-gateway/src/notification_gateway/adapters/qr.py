"""The ticket's QR code as a PNG image, drawn from the signed payload (never verified here)."""

import io

import qrcode
from qrcode.constants import ERROR_CORRECT_M


def qr_png(payload: str, *, box_size: int = 8, border: int = 4) -> bytes:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=border)
    code.add_data(payload)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return buffer.getvalue()
