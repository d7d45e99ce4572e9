"""The ticket's QR code as a PNG image, drawn from the signed payload (never verified here).

Drawing was most of an e-ticket's CPU. qrcode, left to itself, encodes the data twice (once to
find the version), tries all eight mask patterns and paints every module through Pillow. Here
the payload goes in as one byte-mode segment at the smallest version that holds it (the same
version qrcode's fit finds), with one fixed mask (any of the eight is a valid QR code; the
choice only tunes contrast patterns), and the PNG is written directly: one bit per pixel, each
row of modules packed once and repeated `box_size` times, deflated by zlib. The last images
drawn are kept, so a retried or re-sent e-ticket does not draw again.
"""

import struct
import zlib
from bisect import bisect_left
from functools import lru_cache

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from qrcode.util import BIT_LIMIT_TABLE, MODE_8BIT_BYTE, QRData

_MASK_PATTERN = 0
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def byte_mode_version(size: int) -> int:
    """The smallest version holding `size` bytes in one byte-mode segment at level M."""
    limits = BIT_LIMIT_TABLE[ERROR_CORRECT_M]
    for length_bits in (8, 16):  # the length field grows from version 10 on
        version = bisect_left(limits, 4 + length_bits + 8 * size, 1)
        if length_bits == 16 or version < 10:
            break
    if version > 40:
        raise ValueError(f"{size} bytes do not fit in a QR code")
    return version


def qr_modules(payload: str, *, border: int = 4) -> list[list[bool]]:
    """The code's modules, quiet zone included (True = dark)."""
    data = payload.encode("utf-8")
    code = qrcode.QRCode(
        version=byte_mode_version(len(data)),
        error_correction=ERROR_CORRECT_M,
        border=border,
        mask_pattern=_MASK_PATTERN,
    )
    code.add_data(QRData(data, mode=MODE_8BIT_BYTE))
    code.make(fit=False)
    modules: list[list[bool]] = code.get_matrix()
    return modules


@lru_cache(maxsize=1024)
def qr_png(payload: str, *, box_size: int = 8, border: int = 4) -> bytes:
    modules = qr_modules(payload, border=border)
    side = len(modules) * box_size
    padding = "1" * (-side % 8)
    rows = []
    for row in modules:
        bits = "".join("0" * box_size if dark else "1" * box_size for dark in row) + padding
        packed = b"\x00" + int(bits, 2).to_bytes(len(bits) // 8, "big")  # filter: none
        rows.append(packed * box_size)
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return b"".join(
        [
            _PNG_SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(b"".join(rows), 6)),
            _chunk(b"IEND", b""),
        ]
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
