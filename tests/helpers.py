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

# `python -c HOLIDAYS_PROBE <command> ...`: runs kalender-sync and says on stderr whether the
# `holidays` library was imported (the status DB memo and the per-user cache exist to avoid it).
HOLIDAYS_PROBE = """
import sys, runpy
sys.argv = ["kalender-sync"] + sys.argv[1:]
try:
    runpy.run_module("kalender_sync", run_name="__main__")
finally:
    sys.stderr.write("\\nholidays imported: %s\\n" % ("holidays" in sys.modules))
"""

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


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"   # url-safe base64


def tampered(token: str, index: int) -> str:
    """`token` with the character at `index` replaced so that its decoded bytes change: the last
    character of a base64 run carries padding in its low bits ('A' and 'B' can decode alike
    there), so the replacement differs in the top bits."""
    value = _B64.find(token[index])
    other = "A" if value < 0 or value >> 2 else "Q"
    return token[:index] + other + token[index + 1:]


def foreign_event(index: int, spoof: bool = False) -> bytes:
    """Someone else's event, as their calendar app writes it; `spoof`: it copies our marker
    (with a UID that is not the one derived from it), so it must still never be touched."""
    import uuid
    from datetime import datetime, timezone

    from icalendar import Calendar, Event
    calendar = Calendar()
    calendar.add("prodid", "-//someone else//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"foreign-{index}-{uuid.uuid4().hex}@example.org")
    event.add("dtstamp", datetime(2026, 11, 1, tzinfo=timezone.utc))
    event.add("dtstart", datetime(2026, 12, 1 + index % 20, 9 + index % 8, tzinfo=timezone.utc))
    event.add("dtend", datetime(2026, 12, 1 + index % 20, 10 + index % 8, tzinfo=timezone.utc))
    event.add("summary", f"Klantafspraak {index}")
    if spoof:
        # Someone copied our marker, but the UID is not the one derived from it.
        event.add("x-kalender-sync-key", f"contact/anna/contact-anna-{index}/2026-12-01/0")
        event.add("x-kalender-sync-hash", "0" * 32)
    calendar.add_component(event)
    return calendar.to_ical()
