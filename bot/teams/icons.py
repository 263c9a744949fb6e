"""The Teams app icons, drawn without an imaging library: a relay baton, diagonal.

``color.png`` is 192×192 on the accent colour; ``outline.png`` is 32×32, white on transparent
(what Teams requires). ``baton manifest teams`` packs the committed files; tests check they
match what this module draws.
"""

from __future__ import annotations

import math
import struct
import zlib

ACCENT = (0x2B, 0x57, 0x97)
WHITE = (0xFF, 0xFF, 0xFF)


def _png(width: int, height: int, rows: list[bytes]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + row for row in rows)  # filter type 0 on every row
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _coverage(x: float, y: float, size: int) -> float:
    """How much of the baton covers point (x, y): a capsule from lower left to upper right."""
    a, b = (0.25 * size, 0.75 * size), (0.75 * size, 0.25 * size)
    radius = 0.11 * size
    dx, dy = b[0] - a[0], b[1] - a[1]
    t = max(0.0, min(1.0, ((x - a[0]) * dx + (y - a[1]) * dy) / (dx * dx + dy * dy)))
    distance = math.hypot(x - (a[0] + t * dx), y - (a[1] + t * dy))
    return max(0.0, min(1.0, radius - distance + 0.5))  # one pixel of anti-aliasing


def draw(size: int, background: tuple[int, int, int] | None) -> bytes:
    """The baton in white, on ``background`` (or transparent when ``None``)."""
    rows = []
    for y in range(size):
        row = bytearray()
        for x in range(size):
            cover = _coverage(x + 0.5, y + 0.5, size)
            if background is None:
                row += bytes((*WHITE, round(255 * cover)))
            else:
                row += bytes(round(bg + (w - bg) * cover) for bg, w in zip(background, WHITE, strict=True)) + b"\xff"
        rows.append(bytes(row))
    return _png(size, size, rows)


def color_icon() -> bytes:
    return draw(192, ACCENT)


def outline_icon() -> bytes:
    return draw(32, None)
