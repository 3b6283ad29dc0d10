"""Shared helpers: build a team from a small YAML snippet, plan it with a frozen `today`."""
from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

from kalender_sync.core.config import load_team
from kalender_sync.core.contactlog import load_log
from kalender_sync.core.planning import plan

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config" / "example.yaml"
TODAY = date(2026, 11, 24)

BASE = """\
version: 1
timezone: Europe/Amsterdam
language: {language}
holidays: NL
working_hours: {{days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}}
calendars:
  files: {{ics: "out/{{person}}.ics"}}
people:
  maarten: {{name: Maarten van Os, email: maarten@example.nl, calendar: files}}
  jw: {{name: Jan-Willem van den Brink, email: jw@example.nl, calendar: files}}
"""


def make_team(body: str = "", log: str | None = None, language: str = "nl"):
    text = BASE.format(language=language) + textwrap.dedent(body)
    team = load_team(text, "test.yaml")
    if log is not None:
        team = load_log(team, textwrap.dedent(log), "contacts-log.yaml")
    return team


def planned(team, today: date = TODAY, kind: str | None = None, person: str | None = None):
    return [e for e in plan(team, today).events
            if (kind is None or e.kind == kind) and (person is None or e.person == person)]
