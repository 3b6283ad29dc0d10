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
from kalender_sync.features.report import Month, build_report, render, render_csv, render_html, year_fraction

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
    # distinct agreements with a contact in 2026: anna Carla (twice: once) = 1; bram Frank (twice: once) = 1
    assert (anna.contacted, bram.contacted) == (1, 1)
    # on schedule today: anna 3 - 1 overdue = 2; bram 2 - 1 open = 1
    assert (anna.on_schedule, bram.on_schedule) == (2, 1)
    # reminders planned in the period's planned part 06-15 .. 09-14: anna 06-24, 07-20, 09-01 = 3;
    # bram 06-15, 07-01 = 2
    assert (anna.reminders, bram.reminders) == (3, 2)
    # hours: anna 3 x 0.5 (contacts) + 1 (session) + 1 (aftercare) = 3.5
    #        bram 2 x 0.5 (contacts) + 1 (session) + 2 (meeting)   = 4
    assert (anna.hours, bram.hours) == (3.5, 4.0)


def test_team_total_against_the_target(year):
    total = year.total
    assert (total.agreements, total.done, len(total.overdue), len(total.open), total.reminders) == (5, 4, 1, 1, 5)
    # 4 contacts done is 80% of the target, but they were with 2 of the 5 agreements: 40%
    assert (total.contacted, year.contacted_percent, total.on_schedule) == (2, 40.0, 3)
    assert total.hours == 7.5                      # 3.5 + 4
    assert (year.yearly_target, year.period_target) == (5.0, 5.0)
    assert year.percent == 80.0                    # 4 / 5
    assert (year.start, year.end, year.horizon_until) == (date(2026, 1, 1), date(2026, 12, 31), date(2026, 9, 15))
    assert year.planned_span == (date(2026, 6, 15), date(2026, 9, 14))


def test_contacts_per_month_planned_and_done(year):
    # planned: every contact record plans one next contact (its `next`, or date + interval),
    # then one per interval from the current due date on (dates from today):
    #   Carla  01-10 + 3m = 04-10; 04-20 + 3m = 07-20; 07-20 + 3m = 10-20; + 3m = 2027 (out)
    #   Dirk   2025-10-01 + 6m = 04-01; 04-01 + 6m = 10-01
    #   Eva    agreed 09-01; + 1 year = 2027 (out)
    #   Frank  02-02 + 4m = 06-02 (config and log alike: once); agreed 07-01; 07-01 + 4m = 11-01
    #   Gijs   never contacted: plans nothing
    # done: Carla 01-10, 04-20; Frank 02-02, 05-11
    # Months before June (today's month) are past: no planned figure (None), since what was due
    # then is not known (the config keeps only the latest contact; Carla's 04-10 and Dirk's 04-01
    # are known only by chance). June counts Frank's 06-02.
    assert year.months == [
        Month("2026-01", None, 1), Month("2026-02", None, 1), Month("2026-03", None, 0),
        Month("2026-04", None, 1), Month("2026-05", None, 1), Month("2026-06", 1, 0), Month("2026-07", 2, 0),
        Month("2026-08", 0, 0), Month("2026-09", 1, 0), Month("2026-10", 2, 0), Month("2026-11", 1, 0),
        Month("2026-12", 0, 0),
    ]
    assert [m.past for m in year.months] == [True] * 5 + [False] * 7


def test_a_quarter_scales_the_target(team):
    q2 = build_report(team, TODAY, date(2026, 4, 1), date(2026, 6, 30))
    # 30 + 31 + 30 = 91 days of 365: 5 x 91/365 = 1.2466 (anna 3/5 of it, bram 2/5)
    assert q2.period_target == pytest.approx(5 * 91 / 365)
    assert [round(p.target, 4) for p in q2.people] == [round(3 * 91 / 365, 4), round(2 * 91 / 365, 4)]
    assert [p.done for p in q2.people] == [1, 1]                 # Carla 04-20, Frank 05-11
    assert q2.percent == round(100 * 2 / (5 * 91 / 365), 1) == 160.4
    # hours: only the plan's part of Q2, 06-15..06-30: anna Dirk 06-24, bram Gijs 06-15, 30 min each
    assert q2.planned_span == (date(2026, 6, 15), date(2026, 6, 30))
    assert [p.hours for p in q2.people] == [0.5, 0.5]
    # ... and the reminders count the same span: those two (not anna's 07-20 and 09-01, bram's 07-01)
    assert [p.reminders for p in q2.people] == [1, 1]
    assert [(m.month, m.planned, m.done) for m in q2.months] == [("2026-04", None, 1), ("2026-05", None, 1),
                                                                 ("2026-06", 1, 0)]


def test_an_explicit_target_is_split_by_share_of_agreements(team):
    report = build_report(team, TODAY, target=70)
    assert (report.yearly_target, report.period_target, report.target_source) == (70.0, 70.0, "option")
    assert [p.target for p in report.people] == [42.0, 28.0]    # 70 x 3/5, 70 x 2/5
    assert report.percent == 5.7                                  # 4 / 70


def test_a_period_in_the_past(team):
    report = build_report(team, TODAY, date(2025, 1, 1), date(2025, 12, 31))
    # The plan starts today, so nothing is planned in 2025: 0 hours, and 0 reminders (the same span).
    assert report.planned_span is None
    assert [p.hours for p in report.people] == [0, 0] and report.total.reminders == 0
    # Dirk Mol's `last: 2025-10-01` in the config is a contact that happened in 2025.
    assert [p.done for p in report.people] == [1, 0] and [p.contacted for p in report.people] == [1, 0]
    # Every month of 2025 is past: what was due in it is not known, only what was done.
    assert all(m.past for m in report.months)
    assert [(m.month, m.planned, m.done) for m in report.months if m.done] == [("2025-10", None, 1)]
    # Overdue is as of today, whatever the period.
    assert [len(p.overdue) for p in report.people] == [1, 0]


def test_a_period_beyond_the_horizon_has_nothing_planned_yet(team):
    report = build_report(team, TODAY, date(2027, 1, 1), date(2027, 12, 31))
    assert report.planned_span is None
    assert report.total.reminders == 0 and report.total.hours == 0
    assert not any(m.past for m in report.months)


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
    assert doc["language"] == "en" and doc["planned_span"] == {"from": "2026-06-15", "to": "2026-09-14"}
    assert doc["team_total"]["contacted"] == 2 and doc["team_total"]["on_schedule"] == 3
    assert doc["contacted_percent"] == 40.0
    # past months (January to May) have no planned figure; June to December plan 1+2+0+1+2+1+0
    assert [m["past"] for m in doc["months"]] == [True] * 5 + [False] * 7
    assert [m["planned"] for m in doc["months"][:5]] == [None] * 5
    assert sum(m["planned"] for m in doc["months"][5:]) == 7 and sum(m["done"] for m in doc["months"]) == 4


def test_csv_output(capsys):
    code, out, _ = run(capsys, "report", "-c", str(DATA / "team.yaml"), "--today", "2026-06-15", "--format", "csv")
    assert code == 0
    assert not out.startswith("\ufeff")                       # an English team: plain RFC 4180
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["person"] for r in rows] == ["anna", "bram", "team"]
    assert rows[0] == {"person": "anna", "name": "Anna de Boer", "agreements": "3", "done": "2", "contacted": "1",
                       "target": "3.00", "overdue": "1", "overdue_days": "Dirk Mol: 75", "open": "0",
                       "on_schedule": "2", "reminders": "3", "hours": "3.50"}
    assert rows[2]["hours"] == "7.50" and rows[2]["done"] == "4" and rows[2]["target"] == "5.00"


def test_table_output(capsys):
    code, out, _ = run(capsys, "report", "-c", str(DATA / "team.yaml"), "--today", "2026-06-15",
                       "--from", "2026-04-01", "--to", "2026-06-30", "--target", "70")
    assert code == 0
    # reminders and hours count the same span, and the header says which
    assert out.startswith("Networking report Fixture, 2026-04-01 – 2026-06-30 (today 2026-06-15; "
                          "reminders and hours planned 2026-06-15 – 2026-06-30)\n")
    # 70 x 91/365 = 17.45 -> 17.5 shown; 2 / 17.45 = 11.5 %
    assert "Team: 2 contacts done of 17.5 (11.5%); yearly target 70 (--target), 17.5 for 2026-04-01 – 2026-06-30" in out
    assert "  anna         Dirk Mol  due 2026-04-01    75 days" in out
    assert "Never contacted (open): bram: Gijs Bos" in out
    assert ("Agreements: 2 of 5 (40%) had a contact in the period, each person counted once; "
            "3 of 5 on schedule today (1 overdue, 1 never contacted)") in out
    assert ("Contacts per month  planned  done\n"
            "  2026-04              past     1\n"
            "  2026-05              past     1\n"
            "  2026-06                 1     0\n") in out


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
    # January to May are past: a done bar each, no planned bar, one shaded band labelled "past"
    assert page.count('<rect class="bar planned"') == 7 and page.count('<rect class="bar done"') == 12
    assert '<rect class="bar planned" data-month="2026-04"' not in page
    assert '<rect class="bar planned" data-month="2026-07" data-kind="planned" data-value="2"' in page
    assert '<rect class="bar done" data-month="2026-05" data-kind="done" data-value="1"' in page
    assert page.count('<rect class="past band"') == 1 and '>past</text>' in page
    assert '<td class="past">past</td>' in page


def test_html_escapes_names(tmp_path):
    text = (DATA / "team.yaml").read_text().replace("Anna de Boer", "Anna <b>&</b> Co").replace(
        "team: Fixture", "team: \"R&D <script>\"")
    (tmp_path / "team.yaml").write_text(text)
    page = render(build_report(load(tmp_path / "team.yaml"), TODAY), "html")
    assert "Anna &lt;b&gt;&amp;&lt;/b&gt; Co" in page and "R&amp;D &lt;script&gt;" in page
    assert "<script" not in page


# -- language, CSV dialect, distinct contacts ---------------------------------------------------

@pytest.fixture
def dutch(tmp_path) -> Path:
    """The fixture as a Dutch team (`language: nl`), nothing else changed."""
    shutil.copytree(DATA, tmp_path / "cfg")
    config = tmp_path / "cfg" / "team.yaml"
    text = config.read_text()
    assert "language: en" in text
    config.write_text(text.replace("language: en", "language: nl"))
    return config


def test_a_dutch_team_gets_a_dutch_report(capsys, dutch):
    code, out, _ = run(capsys, "report", "-c", str(dutch), "--today", "2026-06-15")
    assert code == 0
    assert out.startswith("Netwerkrapport Fixture, 2026-01-01 – 2026-12-31 (vandaag 2026-06-15; "
                          "herinneringen en uren gepland 2026-06-15 – 2026-09-14)\n")
    assert "persoon" in out and "afspraken  gedaan  gesproken  doel  te laat  open  herinneringen  uren" in out
    assert "Anna de Boer (anna)" in out and "3,5" in out            # decimal comma
    assert "Team: 4 contacten gedaan van 5 (80%); jaardoel 5 (het aantal afspraken), 5 voor 2026-01-01 – 2026-12-31" in out
    assert ("Afspraken: 2 van 5 (40%) hadden contact in de periode, elke persoon één keer geteld; "
            "3 van 5 op schema vandaag (1 te laat, 1 nog nooit gesproken)") in out
    assert "  anna         Dirk Mol  gepland 2026-04-01    75 dagen" in out
    assert "Nog nooit gesproken (open): bram: Gijs Bos" in out
    assert "  2026-01            voorbij       1\n" in out
    for english in ("Networking", "contacts done", "Overdue", "Never contacted", "planned", " past"):
        assert english not in out


def test_a_dutch_html_report(dutch):
    page = render_html(build_report(load(dutch), TODAY))
    assert '<html lang="nl">' in page and "<h1>Netwerkrapport Fixture" in page
    assert ">mrt</text>" in page and ">okt</text>" in page and ">Mar</text>" not in page
    assert ">voorbij</text>" in page and "Team totaal" in page and "gepland tegenover gedaan" in page
    for english in ("Networking report", "Per person", "contacts done", "of target", "Team total", ">past<"):
        assert english not in page


def test_the_language_option_overrides_the_team_s(capsys, dutch):
    code, out, _ = run(capsys, "report", "-c", str(dutch), "--today", "2026-06-15", "--language", "en")
    assert code == 0 and out.startswith("Networking report Fixture")
    code, out, _ = run(capsys, "report", "-c", str(DATA / "team.yaml"), "--today", "2026-06-15",
                       "--language", "nl", "--format", "json")
    assert code == 0 and json.loads(out)["language"] == "nl"


def excel_nl_rows(text: str) -> list[list[str]]:
    """What Excel with Dutch regional settings makes of the file: a UTF-8 BOM, then cells split on ';'."""
    assert text.startswith("\ufeff"), "without a BOM Excel reads the file as ANSI and garbles é, ë, –"
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def test_a_dutch_csv_opens_as_columns_in_dutch_excel(capsys, dutch, tmp_path):
    code, out, _ = run(capsys, "report", "-c", str(dutch), "--today", "2026-06-15", "--format", "csv")
    assert code == 0
    rows = excel_nl_rows(out)
    assert rows[0] == ["persoon", "naam", "afspraken", "gedaan", "gesproken", "doel", "te laat", "dagen te laat",
                       "open", "op schema", "herinneringen", "uren"]
    assert all(len(row) == 12 for row in rows) and [r[0] for r in rows[1:]] == ["anna", "bram", "team"]
    assert rows[1] == ["anna", "Anna de Boer", "3", "2", "1", "3,00", "1", "Dirk Mol: 75", "0", "2", "3", "3,50"]
    assert rows[3][-1] == "7,50"
    # Written with --out, the file starts with the BOM's bytes.
    target = tmp_path / "rapport.csv"
    code, _, _ = run(capsys, "report", "-c", str(dutch), "--today", "2026-06-15", "--format", "csv",
                     "--out", str(target))
    assert code == 0 and target.read_bytes().startswith(b"\xef\xbb\xbfpersoon;naam;")


def test_the_csv_dialect_option(capsys, dutch):
    code, out, _ = run(capsys, "report", "-c", str(dutch), "--today", "2026-06-15", "--format", "csv",
                       "--csv-dialect", "comma")
    assert code == 0 and not out.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][:3] == ["persoon", "naam", "afspraken"] and rows[1][5] == "3.00"
    code, out, _ = run(capsys, "report", "-c", str(DATA / "team.yaml"), "--today", "2026-06-15", "--format", "csv",
                       "--csv-dialect", "excel-nl")
    assert code == 0
    rows = excel_nl_rows(out)
    assert rows[0][:3] == ["person", "name", "agreements"] and rows[1][-1] == "3,50"


def test_the_csv_dialect_is_for_csv_only(capsys):
    code, out, err = run(capsys, "report", "-c", str(DATA / "team.yaml"), "--today", "2026-06-15",
                         "--csv-dialect", "comma")
    assert code == 2 and out == "" and "--csv-dialect is for --format csv" in err


def test_repeat_contacts_count_as_done_but_once_as_contacted(tmp_path):
    # Carla Kok is spoken four more times: 8 contacts done, 160% of the target of 5, while
    # Dirk Mol is still overdue and Gijs Bos was never contacted.
    shutil.copytree(DATA, tmp_path / "cfg")
    with open(tmp_path / "cfg" / "contacts-log.yaml", "a") as log:
        for day in ("2026-05-04", "2026-05-18", "2026-06-01", "2026-06-08"):
            log.write(f"- {{who: anna, with: carla-kok, on: {day}}}\n")
    report = build_report(load(tmp_path / "cfg" / "team.yaml"), TODAY)
    assert (report.total.done, report.percent) == (8, 160.0)
    assert (report.total.contacted, report.total.agreements, report.contacted_percent) == (2, 5, 40.0)
    assert (report.total.on_schedule, len(report.total.overdue), len(report.total.open)) == (3, 1, 1)
    page = render_html(report)
    assert '<div class="big">2 / 5</div><div class="label">agreements with a contact in the period' in page
    assert '<div class="big">3 / 5</div><div class="label">agreements on schedule today' in page
    assert render_csv(report).splitlines()[3].startswith("team,Fixture,5,8,2,")


def test_the_table_says_when_nothing_is_planned_in_the_period(capsys):
    code, out, _ = run(capsys, "report", "-c", str(DATA / "team.yaml"), "--today", "2026-06-15",
                       "--from", "2025-01-01", "--to", "2025-12-31")
    assert code == 0
    assert out.startswith("Networking report Fixture, 2025-01-01 – 2025-12-31 (today 2026-06-15; reminders and "
                          "hours: nothing planned in the period, the plan covers 2026-06-15 – 2026-09-14)\n")
