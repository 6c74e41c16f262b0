"""Draw zendesk-app/assets/logo.png (320x320) and logo-small.png (128x128): the sizes Zendesk asks for.

A blue rounded square with a white arrow pointing up (escalation). No imaging library: the pixels are
computed here (4x4 supersampling for smooth edges) and written as PNG with zlib and struct.

    .venv/bin/python tools/zendesk_app_logos.py
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

ASSETS = Path(__file__).resolve().parents[1] / "zendesk-app" / "assets"
BLUE = (31, 115, 183)
WHITE = (255, 255, 255)
SAMPLES = 4


def _inside_square(x: float, y: float, r: float = 0.18) -> bool:
    cx = min(max(x, r), 1 - r)
    cy = min(max(y, r), 1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def _inside_arrow(x: float, y: float) -> bool:
    if 0.2 <= y <= 0.52:  # head: apex (0.5, 0.2), base from (0.22, 0.52) to (0.78, 0.52)
        half = (y - 0.2) / 0.32 * 0.28
        return abs(x - 0.5) <= half
    return 0.52 <= y <= 0.8 and abs(x - 0.5) <= 0.095  # stem


def render(size: int) -> bytes:
    rows = bytearray()
    for py in range(size):
        rows.append(0)  # filter: none
        for px in range(size):
            square = arrow = 0
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    x = (px + (sx + 0.5) / SAMPLES) / size
                    y = (py + (sy + 0.5) / SAMPLES) / size
                    if _inside_square(x, y):
                        square += 1
                        arrow += _inside_arrow(x, y)
            n = SAMPLES * SAMPLES
            alpha = square / n
            white = arrow / square if square else 0.0
            rgb = [round(b + (w - b) * white) for b, w in zip(BLUE, WHITE, strict=True)]
            rows += bytes([*rgb, round(alpha * 255)])
    return _png(size, size, bytes(rows))


def _png(width: int, height: int, raw: bytes) -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def main() -> None:
    ASSETS.mkdir(parents=True, exist_ok=True)
    (ASSETS / "logo.png").write_bytes(render(320))
    (ASSETS / "logo-small.png").write_bytes(render(128))


if __name__ == "__main__":
    main()
