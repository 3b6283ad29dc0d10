"""Dates the tool is given on the command line: a real date inside 1970-01-01 .. 2200-12-31, or a
usage error (exit 2); and at both ends of that range, with the longest lengths the config
allows (100 years), every command runs without an overflow."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from support.cli import run_in_process as run
from support.cli import run_process

# Every command with --today, with the arguments it needs to get as far as running.
COMMANDS = {
    "check": ["check"],
    "plan": ["plan"],
    "export": ["export", "--out", "out"],
    "sync --dry-run": ["sync", "--dry-run"],
    "purge": ["purge", "--yes"],
    "log": ["log", "maarten", "Piet de Vries"],
    "import --dry-run": ["import", "list.csv", "--person", "maarten", "--dry-run"],
    "report": ["report"],
    "invite --dry-run": ["invite", "--dry-run"],
    "serve": ["serve", "--port", "0"],
    "feeds": ["feeds"],
    "feed-token rotate": ["feed-token", "rotate", "maarten"],
    "feed-token revoke": ["feed-token", "revoke", "maarten"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("day, message", [
    ("0001-01-01", "out of the supported range 1970-01-01 to 2200-12-31 (got: 0001-01-01)"),
    ("9999-12-31", "out of the supported range 1970-01-01 to 2200-12-31 (got: 9999-12-31)"),
    ("1969-12-31", "out of the supported range 1970-01-01 to 2200-12-31 (got: 1969-12-31)"),
    ("2201-01-01", "out of the supported range 1970-01-01 to 2200-12-31 (got: 2201-01-01)"),
    ("2026-02-30", "not a real date: day is out of range for month (got: 2026-02-30)"),
    ("2026-13-01", "not a real date: month must be in 1..12 (got: 2026-13-01)"),
    ("24-11-2026", "expected a date as YYYY-MM-DD (got: 24-11-2026)"),
    ("20261124", "expected a date as YYYY-MM-DD (got: 20261124)"),
])
def test_today_outside_the_range_or_not_a_date_is_a_usage_error(example, command, day, message):
    folder = example.parent
    before = sorted(p.name for p in folder.iterdir())
    # `serve` as a process with a time limit: a day it wrongly accepts would start a server.
    runner = (lambda *args, cwd: run_process(*args, cwd=cwd, timeout=30)) if command == "serve" else run
    result = runner(*COMMANDS[command], "--config", str(example), "--today", day, cwd=folder)
    assert result.returncode == 2, result.stderr
    assert f"Invalid value for '--today': {message}" in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == before


@pytest.mark.parametrize("option", ["--on", "--next"])
@pytest.mark.parametrize("day, message", [
    ("9999-12-31", "out of the supported range 1970-01-01 to 2200-12-31 (got: 9999-12-31)"),
    ("2026-11-31", "not a real date: day is out of range for month (got: 2026-11-31)"),
])
def test_log_dates_use_the_same_rule(example, option, day, message):
    log = example.with_name("contacts-log.yaml")
    before = log.read_bytes()
    result = run("log", "maarten", "Piet de Vries", option, day, "-c", str(example), "--today", "2026-11-24")
    assert result.returncode == 2
    assert f"Invalid value for '{option}': {message}" in result.stderr
    assert log.read_bytes() == before


@pytest.mark.parametrize("option", ["--from", "--to"])
def test_report_period_dates_use_the_same_rule(example, option):
    result = run("report", option, "0001-01-01", "-c", str(example), "--today", "2026-11-24")
    assert result.returncode == 2
    assert f"Invalid value for '{option}': out of the supported range" in result.stderr


# A team that reaches as far as the config allows: the longest lengths (100 years, in every
# unit), the longest horizon, dates at both ends of the range, and every kind of event.
EXTREMES = """\
version: 1
timezone: Europe/Amsterdam
horizon: 10 years
reminders: {{overdue_every: 100 years, ahead: 12}}
calendars:
  files: {{ics: "out/{{person}}.ics"}}
people:
  maarten: {{name: Maarten van Os, email: maarten@example.nl, calendar: files}}
  sanne: {{name: Sanne Bakker, email: sanne@example.nl, calendar: files}}
mail: {{organizer: team@example.nl, smtp_host: localhost}}
contacts:
  - {{owner: maarten, with: Piet de Vries, every: 1 day, last: 1970-01-01}}
  - {{owner: maarten, with: Anouk Smit, every: 100 years, last: 1970-01-01}}
  - {{owner: maarten, with: Henk Jansen, every: 1200 months, next: 2200-12-31}}
  - {{owner: sanne, with: Joost Willems, every: 5217 weeks, last: {today}}}
  - {{owner: sanne, with: Carla Wouters, every: 36525 days}}
  - {{owner: sanne, with: Ingrid Mulder, every: 400 quarters, next: 1970-01-01}}
projects:
  - {{name: Dijk, team: [maarten, sanne], end: 2200-12-31, aftercare: [6 weeks, 100 years]}}
  - {{name: Sluis, team: [sanne], end: 1970-01-01, aftercare: [36525 days]}}
sessions:
  - {{name: Bel-uurtje, every: month, participants: all, prefer: {{weekday: thu, start: "14:00"}}}}
meetings:
  - {{name: Late avond, at: "2200-12-31 15:00", representative: maarten, prepare: 100 years before,
     report_back: 100 years after}}
  - {{name: Vroege avond, at: "1970-01-01 15:00", representative: sanne, prepare: 1200 months before,
     report_back: 5217 weeks after}}
"""


@pytest.fixture(params=["1970-01-01", "2200-12-31"])
def extreme_team(request, tmp_path) -> tuple[Path, str]:
    today = request.param
    config = tmp_path / "team.yaml"
    config.write_text(EXTREMES.format(today=today), encoding="utf-8")
    (tmp_path / "list.csv").write_text(f"naam;interval;laatste contact\nNoor Janssen;100 jaar;{today}\n",
                                       encoding="utf-8")
    return config, today


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "serve"])
def test_every_command_runs_at_both_ends_of_the_range(extreme_team, command):
    config, today = extreme_team
    result = run(*COMMANDS[command], "--config", str(config), "--today", today, cwd=config.parent)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stderr


def test_the_extreme_team_plans_every_kind_at_both_ends(tmp_path):
    """The team above is not vacuous: it plans contacts, aftercare, sessions and meetings (in the
    calendars when there is no mail section to send the group events by)."""
    import json
    kinds = set()
    for today in ("1970-01-01", "2200-12-31"):
        config = tmp_path / f"team-{today}.yaml"
        text = EXTREMES.format(today=today)
        config.write_text("".join(line for line in text.splitlines(keepends=True) if not line.startswith("mail:")),
                          encoding="utf-8")
        result = run("plan", "--format", "json", "--config", str(config), "--today", today)
        assert result.returncode == 0, result.stderr
        kinds |= {event["kind"] for person in json.loads(result.stdout)["people"] for event in person["events"]}
    assert {"contact", "aftercare", "session", "meeting"} <= kinds, kinds


def test_the_range_is_what_the_reference_says():
    from kalender_sync.core.durations import EARLIEST_DAY, LATEST_DAY
    reference = (Path(__file__).resolve().parents[2] / "docs" / "config.md").read_text(encoding="utf-8")
    assert f"from {EARLIEST_DAY.isoformat()} to {LATEST_DAY.isoformat()}" in reference
    assert textwrap.dedent("At most 100 years.") in reference
