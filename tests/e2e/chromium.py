"""Headless Chromium for the report tests: a screenshot of a local page, the page's own network
requests (from Chromium's net log), and a stdlib PNG decoder (zlib + numpy, no image library)."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]  # height x width x 3 (RGB)


def chromium() -> str | None:
    """The Chromium executable, or None when it is not installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(page: Path, png: Path, work: Path, size: str = "1200,2000") -> list[str]:
    """Render `page` headless to `png`; return the URLs the page itself asked the network for.

    Chromium's own background traffic (update and time checks, which the flags do not fully
    silence) is told apart by its network isolation key: a request made by the page carries the
    page's site, `file://`.
    """
    exe = chromium()
    assert exe is not None
    netlog = work / "netlog.json"
    command = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={work / 'profile'}",
        f"--log-net-log={netlog}",
        f"--screenshot={png}",
        f"--window-size={size}",
        page.resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert png.is_file(), done.stderr[-2000:]
    return page_requests(netlog)


def page_requests(netlog: Path) -> list[str]:
    """URLs of network requests started on behalf of a `file://` page (not `file:` or `data:`)."""
    log = json.loads(netlog.read_text(encoding="utf-8"))
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for event in log["events"]:
        params = event.get("params") or {}
        if event["type"] != start or "url" not in params:
            continue
        if str(params.get("network_isolation_key", "")).startswith("file://") and not str(
            params["url"]
        ).startswith(("file:", "data:")):
            urls.append(str(params["url"]))
    return urls


def read_png(path: Path) -> Image:
    """Decode an 8-bit RGB or RGBA PNG (what Chromium writes) into an RGB array."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, bytearray(), b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8, depth
    assert color in (2, 6), color
    assert interlace == 0, interlace
    channels = 3 if color == 2 else 4
    stride = width * channels
    raw = np.frombuffer(zlib.decompress(bytes(idat)), dtype=np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), dtype=np.uint8)
    previous = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        kind, row = int(raw[y, 0]), raw[y, 1:]
        if kind == 0:
            line = row.copy()
        elif kind == 1:  # Sub: running sum per channel, modulo 256
            line = np.cumsum(row.reshape(-1, channels), axis=0, dtype=np.uint8).reshape(-1)
        elif kind == 2:  # Up
            line = row + previous
        else:  # Average (3) and Paeth (4) depend on the pixel just decoded: byte by byte
            line = _sequential(kind, row.tolist(), previous.tolist(), channels)
        out[y] = line
        previous = line
    return out.reshape(height, width, channels)[:, :, :3]


def _sequential(kind: int, row: list[int], up: list[int], bpp: int) -> Image:
    line = [0] * len(row)
    for i, value in enumerate(row):
        left = line[i - bpp] if i >= bpp else 0
        above = up[i]
        if kind == 3:  # PNG filter type Average
            line[i] = (value + (left + above) // 2) & 0xFF
            continue
        corner = up[i - bpp] if i >= bpp else 0
        p = left + above - corner
        pa, pb, pc = abs(p - left), abs(p - above), abs(p - corner)
        best = left if pa <= pb and pa <= pc else above if pb <= pc else corner
        line[i] = (value + best) & 0xFF
    return np.array(line, dtype=np.uint8)


def solid_pixels(image: Image, color: str, window: tuple[int, int]) -> int:
    """Pixels of `color` ("#rrggbb") at the top-left of a solid `window` (rows, cols) of it: the
    count of places a bar at least that tall and wide covers; thin lines, text and small swatches
    of the same colour give none."""
    rgb = tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))
    mask = np.all(image == np.array(rgb, dtype=np.uint8), axis=2)
    rows, cols = window
    # a 2-D running sum: a window is solid when its sum equals its area
    summed = np.pad(mask.astype(np.int32).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    area = (
        summed[rows:, cols:]
        - summed[:-rows, cols:]
        - summed[rows:, :-cols]
        + summed[:-rows, :-cols]
    )
    return int(np.count_nonzero(area == rows * cols))
