"""A PNG reader for the frames gridvid writes: 8-bit, not interlaced,
grey, RGB or RGBA; to a numpy array (H x W x channels, uint8).

The preview reaches Python as the PNG the library wrote, so its pixels
are exactly those of `gridvid --preview`; this turns it into an array
without another dependency. Every filter of the format is undone (the
library writes unfiltered rows; the others cost a loop over the row in
Python).
"""
from __future__ import annotations

import struct
import zlib
from typing import Any

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 6: 4}  # colour type -> samples per pixel


def _chunks(data: bytes):
    if not data.startswith(_SIGNATURE):
        raise ValueError("not a PNG file")
    pos = len(_SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length:
            raise ValueError("truncated PNG chunk %r" % kind)
        yield kind, body
        if kind == b"IEND":
            return
        pos += 12 + length
    raise ValueError("PNG without IEND")


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _slow_row(kind: int, line: bytearray, prev: bytes, bpp: int) -> bytearray:
    """Average (3) and Paeth (4): each byte depends on the one before."""
    for i in range(len(line)):
        a = line[i - bpp] if i >= bpp else 0
        c = prev[i - bpp] if i >= bpp else 0
        pred = (a + prev[i]) >> 1 if kind == 3 else _paeth(a, prev[i], c)
        line[i] = (line[i] + pred) & 0xFF
    return line


def decode(data: bytes, np: Any) -> Any:
    """The pixels of PNG data as a numpy array (np is the numpy module)."""
    header = None
    idat = []
    for kind, body in _chunks(data):
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
    if header is None:
        raise ValueError("PNG without IHDR")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in _CHANNELS or interlace:
        raise ValueError("PNG of depth %d, colour type %d, interlace %d: not a gridvid frame"
                         % (depth, colour, interlace))
    bpp = _CHANNELS[colour]
    stride = width * bpp
    raw = zlib.decompress(b"".join(idat))
    if len(raw) != height * (stride + 1):
        raise ValueError("PNG data of %d bytes for %dx%d" % (len(raw), width, height))
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(height, stride + 1)
    if not rows[:, 0].any():  # unfiltered, as the library writes
        return rows[:, 1:].reshape(height, width, bpp).copy()
    out = np.empty((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        kind, line = int(rows[y, 0]), rows[y, 1:]
        if kind == 0:
            cur = line
        elif kind == 1:  # Sub: a running sum per channel, modulo 256
            cur = np.cumsum(line.reshape(width, bpp), axis=0, dtype=np.uint8).reshape(stride)
        elif kind == 2:  # Up
            cur = line + prev
        elif kind in (3, 4):
            cur = np.frombuffer(_slow_row(kind, bytearray(line.tobytes()), prev.tobytes(), bpp),
                                dtype=np.uint8)
        else:
            raise ValueError("PNG row %d has filter type %d" % (y, kind))
        out[y] = cur
        prev = out[y]
    return out.reshape(height, width, bpp)
