"""The HTML report is rendered from Jinja2 templates with autoescape: names stay text."""
from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from kalender_sync.features.report import Month, build_report, render_html, render_svg
from kalender_sync.storage.teamfiles import load

DATA = Path(__file__).resolve().parent.parent / "data" / "report"
TODAY = date(2026, 6, 15)
CONTACT = "Dirk <script>alert(1)</script> & \"quotes\""          # overdue on TODAY: in the overdue table
TEAM = "R&D <script>alert(2)</script>"


@pytest.fixture
def page(tmp_path) -> str:
    shutil.copytree(DATA, tmp_path / "cfg")
    config = tmp_path / "cfg" / "team.yaml"
    text = config.read_text()
    assert "with: Dirk Mol" in text and "team: Fixture" in text
    text = text.replace("with: Dirk Mol", "with: 'Dirk <script>alert(1)</script> & \"quotes\"'").replace(
        "team: Fixture", "team: \"R&D <script>alert(2)</script>\"")
    config.write_text(text)
    report = build_report(load(config), TODAY)
    assert report.team == TEAM and CONTACT in [o.contact for o in report.total.overdue]
    return render_html(report)


def test_a_script_in_a_contact_s_name_stays_text(page):
    assert "<td>Dirk &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quotes&#34;</td>" in page
    assert "<script" not in page and "alert(1)</script>" not in page


def test_a_script_in_the_team_name_stays_text(page):
    escaped = "R&amp;D &lt;script&gt;alert(2)&lt;/script&gt;"
    assert f"<title>Networking report {escaped}, 2026-01-01 – 2026-12-31</title>" in page
    assert f"<h1>Networking report {escaped}, " in page
    assert "<tr class=\"total\"><td>Team total</td>" in page          # the total row is labelled, not named
    assert "<script" not in page and "alert(2)</script>" not in page


def test_the_caption_s_own_markup_is_kept(page):
    # The caption is our own constant text with <code>last</code> in it, marked safe on purpose.
    assert "(or recorded as <code>last</code> in the config)" in page
    assert "&lt;code&gt;" not in page


def test_the_chart_alone_is_one_svg_element():
    svg = render_svg([Month("2026-05", None, 1), Month("2026-06", 2, 0)], lang="nl")
    assert svg.startswith('<svg id="contacts-per-month" width="960" height="320"') and svg.endswith("</svg>")
    assert '<rect class="past band"' in svg and ">voorbij</text>" in svg and ">jun</text>" in svg
