"""The team report, checked against figures worked out by hand (tests/data/report/)."""
from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from kalender_sync.cli import main
from kalender_sync.storage.teamfiles import load
from kalender_sync.features.report import Month, build_report, render, render_html, year_fraction

DATA = Path(__file__).resolve().parent.parent / "data" / "report"
TODAY = date(2026, 6, 15)       # a Monday


@pytest.fixture(scope="module")
def team():
    return load(DATA / "team.yaml")


@pytest.fixture(scope="module")
def year(team):
    return build_report(team, TODAY)


# The fixture, worked out by hand for --today 2026-06-15 (Monday); the plan covers
# [2026-06-15, 2026-09-15) (horizon 3 months), no public holidays, reminders at 09:00 (30 min).
#
# anna  Carla Kok  every 3 months, config last 2026-01-10, log 2026-04-20
#                  due 2026-04-20 + 3 months = Mon 2026-07-20         -> reminder Mon 07-20 09:00
#       Dirk Mol   every 6 months, config last 2025-10-01
#                  due 2026-04-01: overdue, 2026-04-01 -> 2026-06-15 = 29 + 31 + 15 = 75 days.
#                  Re-reminders every 2 weeks from 04-01: ..., 05-27, 06-10, Wed 06-24   -> 06-24 09:00
#       Eva Roos   every 1 year, config next 2026-09-01 (agreed)       -> reminder Tue 09-01 09:00
# bram  Frank Wit  every 4 months, config last 2026-02-02; log 2026-02-02 (the same contact again)
#                  and 2026-05-11 with next 2026-07-01                -> reminder Wed 07-01 09:00
#       Gijs Bos   every 1 year, never contacted: open, on the fixed two-weekly grid from
#                  2024-01-01; 2024-01-01 + 62 x 14 days = 2026-05-18, + 28 = Mon 06-15  -> 06-15 09:00
# Other events: Bel-uurtje Q3 on the first Thursday, 2026-07-02 14:00, 1 h, for both;
# aftercare Brug Oost 2026-06-26 + 2 weeks = Fri 07-10 10:00, 1 h, anna only; Netwerkdag
# 2026-08-20 15:00, 2 h, bram (anna's "input for" on 08-06 and bram's report-back are all-day).

def test_per_person_figures_for_the_year(year):
    anna, bram = year.people
    assert (anna.id, anna.agreements, bram.id, bram.agreements) == ("anna", 3, "bram", 2)
    # done in 2026: anna 01-10 + 04-20 (Carla) = 2; bram 02-02 (config and log: once) + 05-11 = 2
    assert (anna.done, bram.done) == (2, 2)
    # default target = 5 agreements a year; 2026 is a whole year: 5 x 1; split 3 : 2
    assert (anna.target, bram.target) == (3.0, 2.0)
    assert [(o.contact, o.due, o.days) for o in anna.overdue] == [("Dirk Mol", date(2026, 4, 1), 75)]
    assert bram.overdue == [] and (anna.open, bram.open) == ([], ["Gijs Bos"])
    # reminders in the calendar: anna 06-24, 07-20, 09-01 = 3; bram 06-15, 07-01 = 2
    assert (anna.reminders, bram.reminders) == (3, 2)
    # hours: anna 3 x 0.5 (contacts) + 1 (session) + 1 (aftercare) = 3.5
    #        bram 2 x 0.5 (contacts) + 1 (session) + 2 (meeting)   = 4
    assert (anna.hours, bram.hours) == (3.5, 4.0)


def test_team_total_against_the_target(year):
    total = year.total
    assert (total.agreements, total.done, len(total.overdue), len(total.open), total.reminders) == (5, 4, 1, 1, 5)
    assert total.hours == 7.5                      # 3.5 + 4
    assert (year.yearly_target, year.period_target) == (5.0, 5.0)
    assert year.percent == 80.0                    # 4 / 5
    assert (year.start, year.end, year.horizon_until) == (date(2026, 1, 1), date(2026, 12, 31), date(2026, 9, 15))


def test_contacts_per_month_planned_and_done(year):
    # planned: every contact record plans one next contact (its `next`, or date + interval),
    # then one per interval from the current due date on (dates from today):
    #   Carla  01-10 + 3m = 04-10; 04-20 + 3m = 07-20; 07-20 + 3m = 10-20; + 3m = 2027 (out)
    #   Dirk   2025-10-01 + 6m = 04-01; 04-01 + 6m = 10-01
    #   Eva    agreed 09-01; + 1 year = 2027 (out)
    #   Frank  02-02 + 4m = 06-02 (config and log alike: once); agreed 07-01; 07-01 + 4m = 11-01
    #   Gijs   never contacted: plans nothing
    # done: Carla 01-10, 04-20; Frank 02-02, 05-11
    assert year.months == [
        Month("2026-01", 0, 1), Month("2026-02", 0, 1), Month("2026-03", 0, 0), Month("2026-04", 2, 1),
        Month("2026-05", 0, 1), Month("2026-06", 1, 0), Month("2026-07", 2, 0), Month("2026-08", 0, 0),
        Month("2026-09", 1, 0), Month("2026-10", 2, 0), Month("2026-11", 1, 0), Month("2026-12", 0, 0),
    ]


def test_a_quarter_scales_the_target(team):
    q2 = build_report(team, TODAY, date(2026, 4, 1), date(2026, 6, 30))
    # 30 + 31 + 30 = 91 days of 365: 5 x 91/365 = 1.2466 (anna 3/5 of it, bram 2/5)
    assert q2.period_target == pytest.approx(5 * 91 / 365)
    assert [round(p.target, 4) for p in q2.people] == [round(3 * 91 / 365, 4), round(2 * 91 / 365, 4)]
    assert [p.done for p in q2.people] == [1, 1]                 # Carla 04-20, Frank 05-11
    assert q2.percent == round(100 * 2 / (5 * 91 / 365), 1) == 160.4
    # hours: only the plan's part of Q2, 06-15..06-30: anna Dirk 06-24, bram Gijs 06-15, 30 min each
    assert [p.hours for p in q2.people] == [0.5, 0.5]
    assert [(m.month, m.planned, m.done) for m in q2.months] == [("2026-04", 2, 1), ("2026-05", 0, 1),
                                                                 ("2026-06", 1, 0)]


def test_an_explicit_target_is_split_by_share_of_agreements(team):
    report = build_report(team, TODAY, target=70)
    assert (report.yearly_target, report.period_target, report.target_source) == (70.0, 70.0, "option")
    assert [p.target for p in report.people] == [42.0, 28.0]    # 70 x 3/5, 70 x 2/5
    assert report.percent == 5.7                                  # 4 / 70


def test_a_period_in_the_past(team):
    report = build_report(team, TODAY, date(2025, 1, 1), date(2025, 12, 31))
    # The plan starts today, so nothing is planned in 2025: 0 hours.
    assert [p.hours for p in report.people] == [0, 0]
    # Dirk Mol's `last: 2025-10-01` in the config is a contact that happened in 2025.
    assert [p.done for p in report.people] == [1, 0]
    # ... and it planned one: 2025-10-01 + 6 months = 2026-04-01, outside 2025. Nothing else is due in 2025.
    assert [(m.month, m.planned, m.done) for m in report.months if m.planned or m.done] == [("2025-10", 0, 1)]
    # Overdue and reminders are as of today, whatever the period.
    assert [len(p.overdue) for p in report.people] == [1, 0] and report.total.reminders == 5


@pytest.mark.parametrize("start, end, fraction", [
    (date(2026, 1, 1), date(2026, 12, 31), 1.0),
    (date(2028, 1, 1), date(2028, 12, 31), 1.0),                  # a leap year is one year too
    (date(2026, 1, 1), date(2026, 1, 31), 31 / 365),
    (date(2027, 12, 1), date(2028, 1, 31), 31 / 365 + 31 / 366),
    (date(2026, 7, 1), date(2027, 6, 30), 1.0),
])
def test_year_fraction(start, end, fraction):
    assert year_fraction(start, end) == pytest.approx(fraction)


# -- output formats -------------------------------------------------------------------------------

def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_output(capsys):
    code, out, err = run(capsys, "report", "--config", str(DATA / "team.yaml"), "--today", "2026-06-15",
                         "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["period"] == {"from": "2026-01-01", "to": "2026-12-31"}
    assert doc["target"] == {"yearly": 5.0, "source": "agreements", "period": 5.0, "percent_done": 80.0}
    assert doc["team_total"]["done"] == 4 and doc["team_total"]["hours"] == 7.5
    assert doc["people"][0]["overdue"] == {"count": 1, "contacts": [
        {"person": "anna", "contact": "Dirk Mol", "due": "2026-04-01", "days": 75}]}
    assert sum(m["planned"] for m in doc["months"]) == 9 and sum(m["done"] for m in doc["months"]) == 4


def test_csv_output(capsys):
    code, out, _ = run(capsys, "report", "-c", str(DATA / "team.yaml"), "--today", "2026-06-15", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["person"] for r in rows] == ["anna", "bram", "team"]
    assert rows[0] == {"person": "anna", "name": "Anna de Boer", "agreements": "3", "done": "2", "target": "3.00",
                       "overdue": "1", "overdue_days": "Dirk Mol: 75", "open": "0", "reminders": "3",
                       "hours": "3.50"}
    assert rows[2]["hours"] == "7.50" and rows[2]["done"] == "4" and rows[2]["target"] == "5.00"


def test_table_output(capsys):
    code, out, _ = run(capsys, "report", "-c", str(DATA / "team.yaml"), "--today", "2026-06-15",
                       "--from", "2026-04-01", "--to", "2026-06-30", "--target", "70")
    assert code == 0
    assert out.startswith("Networking report Fixture, 2026-04-01 – 2026-06-30 (today 2026-06-15; "
                          "reminders planned until 2026-09-15)\n")
    # 70 x 91/365 = 17.45 -> 17.5 shown; 2 / 17.45 = 11.5 %
    assert "Team: 2 contacts done of 17.5 (11.5%); yearly target 70 (--target), 17.5 for 2026-04-01 – 2026-06-30" in out
    assert "  anna         Dirk Mol  due 2026-04-01    75 days" in out
    assert "Never contacted (open): bram: Gijs Bos" in out


def test_only_from_gives_one_year(capsys):
    code, out, _ = run(capsys, "report", "-c", str(DATA / "team.yaml"), "--today", "2026-06-15",
                       "--from", "2026-03-01", "--format", "json")
    assert code == 0 and json.loads(out)["period"] == {"from": "2026-03-01", "to": "2027-02-28"}


def test_out_writes_a_file_and_output_is_reproducible(capsys, tmp_path):
    shutil.copytree(DATA, tmp_path / "cfg")
    out = tmp_path / "report.html"
    args = ("report", "-c", str(tmp_path / "cfg" / "team.yaml"), "--today", "2026-06-15", "--format", "html")
    code, stdout, err = run(capsys, *args, "--out", str(out))
    assert code == 0 and stdout == "" and f"wrote {out}" in err
    first = out.read_bytes()
    run(capsys, *args, "--out", str(out))
    assert out.read_bytes() == first                              # same input, same bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cfg", "report.html"]   # no temp files left


def test_an_empty_period_is_a_usage_error(capsys):
    code, _, err = run(capsys, "report", "-c", str(DATA / "team.yaml"), "--today", "2026-06-15",
                       "--from", "2026-05-01", "--to", "2026-04-30")
    assert code == 2 and "the period ends (2026-04-30) before it starts (2026-05-01)" in err


def test_html_is_standalone_and_has_the_chart(year):
    page = render_html(year)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    for external in ("<script", "<link", "src=", "href=", "url(", "@import", "http://", "https://"):
        assert external not in page
    assert page.count('id="contacts-per-month"') == 1
    assert page.count('<rect class="bar planned"') == 12 and page.count('<rect class="bar done"') == 12
    assert '<rect class="bar planned" data-month="2026-04" data-kind="planned" data-value="2"' in page
    assert '<rect class="bar done" data-month="2026-05" data-kind="done" data-value="1"' in page


def test_html_escapes_names(tmp_path):
    text = (DATA / "team.yaml").read_text().replace("Anna de Boer", "Anna <b>&</b> Co").replace(
        "team: Fixture", "team: \"R&D <script>\"")
    (tmp_path / "team.yaml").write_text(text)
    page = render(build_report(load(tmp_path / "team.yaml"), TODAY), "html")
    assert "Anna &lt;b&gt;&amp;&lt;/b&gt; Co" in page and "R&amp;D &lt;script&gt;" in page
    assert "<script" not in page
