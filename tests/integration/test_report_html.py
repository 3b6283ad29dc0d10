"""The HTML report in a real browser: headless Chromium renders it and takes a screenshot.

Needs Debian's Chromium (`apt-get install -y chromium`; .ci/run must install it). Without it
the test is skipped on a developer's machine and FAILS in CI (env CI set), so a missing
browser cannot turn the check into a silent skip there.
"""
from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parent.parent / "data" / "report"
DONE_GREEN = (0x2F, 0x85, 0x5A)       # --done in report.py's CSS
PLANNED_BLUE = (0x9F, 0xB3, 0xC8)     # --planned
PAST_GREY = (0xE6, 0xEB, 0xF1)        # --past: the band behind the past months
# The fixture's months (see tests/unit/test_report.py for the arithmetic): (planned, done);
# January to May are past (today 2026-06-15): no planned bar (None), only what was done.
MONTHS = {"2026-01": (None, 1), "2026-02": (None, 1), "2026-03": (None, 0), "2026-04": (None, 1),
          "2026-05": (None, 1), "2026-06": (1, 0), "2026-07": (2, 0), "2026-08": (0, 0), "2026-09": (1, 0),
          "2026-10": (2, 0), "2026-11": (1, 0), "2026-12": (0, 0)}


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    message = "headless Chromium is needed for the HTML report test: apt-get install -y chromium"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set, so this is a failure, not a skip)")
    pytest.skip(message)


def browser(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
               f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.fixture
def page(tmp_path) -> Path:
    shutil.copytree(DATA, tmp_path / "cfg")
    out = tmp_path / "report.html"
    result = subprocess.run([sys.executable, "-m", "kalender_sync", "report", "-c", str(tmp_path / "cfg" / "team.yaml"),
                             "--today", "2026-06-15", "--format", "html", "--out", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return out


def read_png(path: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit RGB/RGBA PNG, with the filters undone."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, f"unexpected PNG format {header}"
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = previous[i]
                c = previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, [_rgb(r, bpp) for r in rows]


def _rgb(row: bytes, bpp: int) -> bytes:
    if bpp == 3:
        return row
    return b"".join(row[i:i + 3] for i in range(0, len(row), 4))


def count_colour(rows: list[bytes], colour: tuple[int, int, int], tolerance: int = 3) -> int:
    count = 0
    for row in rows:
        for i in range(0, len(row), 3):
            if all(abs(row[i + k] - colour[k]) <= tolerance for k in range(3)):
                count += 1
    return count


def test_the_report_renders_in_chromium_with_its_chart(page, tmp_path):
    png = tmp_path / "report.png"
    shot = browser(tmp_path, f"--screenshot={png}", "--window-size=1200,900", page.as_uri())
    assert shot.returncode == 0 and png.exists(), shot.stderr[-2000:]
    assert png.stat().st_size > 10_000, f"screenshot suspiciously small: {png.stat().st_size} bytes"
    width, height, rows = read_png(png)
    assert (width, height) == (1200, 900)
    colours = {row[i:i + 3] for row in rows[::10] for i in range(0, len(row), 30)}
    assert len(colours) > 20, "the screenshot is (nearly) a single colour"
    # The bars are really drawn: both bar colours cover a good number of pixels in the visible part.
    # Fixture: at most 2 a month, so one unit is 121 px of the 242 px plot and a bar is 28 px wide:
    # done 4 units ~ 13,500 px (plus the progress bar), planned 7 units (June to December) ~ 23,700 px (22,166 measured).
    # The past band: 5 of 12 slots of the 900 px plot, 375 x 242 px less the done bars ~ 77,000 px.
    assert count_colour(rows, DONE_GREEN) > 10_000
    assert count_colour(rows, PLANNED_BLUE) > 20_000
    assert count_colour(rows, PAST_GREY, tolerance=1) > 60_000


def test_the_dom_has_the_chart_with_its_bars(page, tmp_path):
    dom = browser(tmp_path, "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert html.count('id="contacts-per-month"') == 1
    svg = html[html.index('<svg id="contacts-per-month"'):]
    svg = svg[:svg.index("</svg>")]
    bars = re.findall(r'<rect class="bar (planned|done)" data-month="(\d{4}-\d{2})" data-kind="\1" '
                      r'data-value="(\d+)"[^>]*height="([\d.]+)"', svg)
    assert len(bars) == 12 + 7                  # a done bar every month, a planned bar from June on
    found = {}
    for kind, month, value, height in bars:
        found.setdefault(month, [None, None])[0 if kind == "planned" else 1] = int(value)
        assert (float(height) > 0) == (int(value) > 0)
    assert {m: tuple(v) for m, v in found.items()} == MONTHS
    assert svg.count('<rect class="past band"') == 1 and ">past</text>" in svg
