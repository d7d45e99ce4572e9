"""The ticket's QR code as a PNG image, drawn from the signed payload (never verified here).

Drawing was most of an e-ticket's CPU. qrcode, left to itself, encodes the data twice (once to
find the version), tries all eight mask patterns, computes the error correction with
polynomial objects and paints every module through Pillow. Here the payload is one byte-mode
segment at the smallest version that holds it (the same version qrcode's fit finds), its
codewords (data and Reed-Solomon, interleaved as the standard lays them out) are computed with
GF(256) log tables and handed to qrcode as its `data_cache`, qrcode places them under one fixed
mask (any of the eight is a valid QR code; the choice only tunes contrast patterns), and the
PNG is written directly: one bit per pixel, each row of modules packed once and repeated
`box_size` times, deflated by zlib. The last images drawn are kept, so a retried or re-sent
e-ticket does not draw again.
"""

import struct
import zlib
from bisect import bisect_left
from functools import lru_cache

import qrcode
from qrcode.base import rs_blocks
from qrcode.constants import ERROR_CORRECT_M
from qrcode.util import BIT_LIMIT_TABLE

_MASK_PATTERN = 0
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PADDING = (0xEC, 0x11)  # the standard's filler codewords, alternating

# GF(256) with the QR code's polynomial x^8 + x^4 + x^3 + x^2 + 1.
_EXP = [0] * 512
_LOG = [0] * 256
_value = 1
for _power in range(255):
    _EXP[_power] = _value
    _LOG[_value] = _power
    _value <<= 1
    if _value & 0x100:
        _value ^= 0x11D
for _power in range(255, 512):
    _EXP[_power] = _EXP[_power - 255]


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


@lru_cache(maxsize=64)
def _generator(degree: int) -> tuple[int, ...]:
    """The Reed-Solomon generator polynomial (x - a^0)...(x - a^(degree-1)), highest first."""
    poly = [1]
    for root in range(degree):
        nxt = [*poly, 0]
        for i, coefficient in enumerate(poly):
            if coefficient:
                nxt[i + 1] ^= _EXP[_LOG[coefficient] + root]
        poly = nxt
    return tuple(poly)


def _error_correction(data: list[int], degree: int) -> list[int]:
    """The remainder of data(x) * x^degree divided by the generator: the EC codewords."""
    generator = [_LOG[c] if c else -1 for c in _generator(degree)[1:]]
    remainder = [0] * degree
    for codeword in data:
        factor = codeword ^ remainder[0]
        remainder = [*remainder[1:], 0]
        if factor:
            log_factor = _LOG[factor]
            for i, log_g in enumerate(generator):
                if log_g >= 0:
                    remainder[i] ^= _EXP[log_g + log_factor]
    return remainder


def codewords(data: bytes, version: int) -> list[int]:
    """Byte mode, terminator and filler, then each block's error correction, interleaved."""
    blocks = rs_blocks(version, ERROR_CORRECT_M)
    capacity = sum(block.data_count for block in blocks)
    length_bits = 8 if version < 10 else 16
    bits = f"0100{len(data):0{length_bits}b}" + "".join(f"{byte:08b}" for byte in data)
    bits += "0" * min(4, capacity * 8 - len(bits))
    bits += "0" * (-len(bits) % 8)
    stream = list(int(bits, 2).to_bytes(len(bits) // 8, "big"))
    stream += [_PADDING[i % 2] for i in range(capacity - len(stream))]
    data_blocks, ec_blocks, offset = [], [], 0
    for block in blocks:
        chunk = stream[offset : offset + block.data_count]
        offset += block.data_count
        data_blocks.append(chunk)
        ec_blocks.append(_error_correction(chunk, block.total_count - block.data_count))
    laid_out = []
    for group in (data_blocks, ec_blocks):
        for i in range(max(len(block) for block in group)):
            laid_out += [block[i] for block in group if i < len(block)]
    return laid_out


def qr_modules(payload: str, *, border: int = 4) -> list[list[bool]]:
    """The code's modules, quiet zone included (True = dark)."""
    data = payload.encode("utf-8")
    version = byte_mode_version(len(data))
    code = qrcode.QRCode(
        version=version, error_correction=ERROR_CORRECT_M, border=border, mask_pattern=_MASK_PATTERN
    )
    code.data_cache = codewords(data, version)  # what qrcode would compute, computed faster
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
