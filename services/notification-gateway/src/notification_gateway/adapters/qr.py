"""The ticket's QR code as a PNG image, drawn from the signed payload (never verified here).

Drawing was most of an e-ticket's CPU. qrcode, left to itself, encodes the data twice (once to
find the version), tries all eight mask patterns, computes the error correction with
polynomial objects and paints every module through Pillow. Here the payload is one byte-mode
segment at the smallest version that holds it (the same version qrcode's fit finds), its
codewords (data and Reed-Solomon, interleaved as the standard lays them out) are computed with
GF(256) log tables, and they are placed under one fixed mask (any of the eight is a valid QR
code; the choice only tunes contrast patterns) on the version's layout: its function patterns
(finders, alignment, timing, format and version information, drawn by qrcode's own methods)
and its data modules in qrcode's placement order, both made once per version. The PNG is
written directly: one bit per pixel, each row of modules packed once and repeated `box_size`
times, deflated by zlib. The last images drawn are kept, so a retried or re-sent e-ticket does
not draw again.
"""

import struct
import zlib
from bisect import bisect_left
from functools import lru_cache
from typing import cast

import qrcode
from qrcode.base import rs_blocks
from qrcode.constants import ERROR_CORRECT_M
from qrcode.util import BIT_LIMIT_TABLE, mask_func

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


@lru_cache(maxsize=64)
def _products(degree: int) -> tuple[int, ...]:
    """For each factor, the generator's lower terms times it: `degree` bytes as one integer."""
    generator = _generator(degree)[1:]
    products = [0]
    for factor in range(1, 256):
        value = 0
        for coefficient in generator:
            term = _EXP[_LOG[coefficient] + _LOG[factor]] if coefficient else 0
            value = (value << 8) | term
        products.append(value)
    return tuple(products)


def _error_correction(data: list[int], degree: int) -> list[int]:
    """The remainder of data(x) * x^degree divided by the generator: the EC codewords.

    The remainder is one integer of `degree` bytes: each step shifts it a byte and adds (XOR)
    the generator times the leading factor, looked up whole.
    """
    products = _products(degree)
    top = 8 * (degree - 1)
    width = (1 << (8 * degree)) - 1
    remainder = 0
    for codeword in data:
        factor = codeword ^ (remainder >> top)
        remainder = ((remainder << 8) & width) ^ products[factor]
    return list(remainder.to_bytes(degree, "big"))


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


Layout = tuple[tuple[tuple[bool | None, ...], ...], tuple[tuple[int, int, bool], ...]]
"""The function patterns (None: a data module), and each data module's (row, column, mask)."""


@lru_cache(maxsize=41)
def _layout(version: int) -> Layout:
    code = qrcode.QRCode(
        version=version, error_correction=ERROR_CORRECT_M, mask_pattern=_MASK_PATTERN
    )
    side = code.modules_count = version * 4 + 17
    code.modules = [[None] * side for _ in range(side)]
    for row, col in ((0, 0), (side - 7, 0), (0, side - 7)):
        code.setup_position_probe_pattern(row, col)
    code.setup_position_adjust_pattern()
    code.setup_timing_pattern()
    code.setup_type_info(False, _MASK_PATTERN)
    if version >= 7:
        code.setup_type_number(False)
    masked = mask_func(_MASK_PATTERN)
    # qrcode's map_data walk: two columns at a time from the right edge, up, then down, and so
    # on, stepping over the vertical timing column.
    places = []
    row, step = side - 1, -1
    for right in range(side - 1, 0, -2):
        col = right - 1 if right <= 6 else right
        while 0 <= row < side:
            for c in (col, col - 1):
                if code.modules[row][c] is None:
                    places.append((row, c, bool(masked(row, c))))
            row += step
        row -= step
        step = -step
    return tuple(tuple(r) for r in code.modules), tuple(places)


def qr_modules(payload: str, *, border: int = 4) -> list[list[bool]]:
    """The code's modules, quiet zone included (True = dark)."""
    data = payload.encode("utf-8")
    version = byte_mode_version(len(data))
    patterns, places = _layout(version)
    modules: list[list[bool | None]] = [list(row) for row in patterns]
    stream = bytes(codewords(data, version))
    bits = f"{int.from_bytes(stream, 'big'):0{8 * len(stream)}b}"
    for (row, col, masked), bit in zip(places, bits, strict=False):
        modules[row][col] = (bit == "1") != masked
    for row, col, masked in places[len(bits) :]:  # the remainder bits: light, then masked
        modules[row][col] = masked
    quiet = [False] * border
    width = len(modules) + 2 * border
    framed = [[False] * width for _ in range(border)]
    placed = cast(list[list[bool]], modules)  # every None of the layout is a place filled above
    framed += [quiet + row + quiet for row in placed]
    framed += [[False] * width for _ in range(border)]
    return framed


@lru_cache(maxsize=1024)
def qr_png(payload: str, *, box_size: int = 8, border: int = 4) -> bytes:
    modules = qr_modules(payload, border=border)
    side = len(modules) * box_size
    # Each pixel row starts with its filter byte (0: none); a module row is box_size of them.
    rows = [(b"\x00" + _packed(row, box_size)) * box_size for row in modules]
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return b"".join(
        [
            _PNG_SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(b"".join(rows), 1)),  # 1.6 KB at level 1, in 0.05 ms
            _chunk(b"IEND", b""),
        ]
    )


_BYTE_PER_MODULE = bytes([0xFF, 0x00]) + bytes(254)
"""At 8 pixels a module, a module is one byte of the row: 0x00 dark, 0xFF light."""


def _packed(row: list[bool], box_size: int) -> bytes:
    """One pixel row of the modules (1 bit a pixel, 0 dark), padded light to a whole byte."""
    if box_size == 8:
        return bytes(row).translate(_BYTE_PER_MODULE)
    bits = "".join("0" * box_size if dark else "1" * box_size for dark in row)
    bits += "1" * (-len(bits) % 8)
    return int(bits, 2).to_bytes(len(bits) // 8, "big")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
