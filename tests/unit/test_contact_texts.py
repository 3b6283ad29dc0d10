"""The texts of contact reminders: first or repeat, what is said about the last contact, Dutch grammar."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from helpers import EXAMPLE, TODAY, make_team, planned
from kalender_sync.core.durations import Interval
from kalender_sync.core.texts import interval_text
from kalender_sync.storage.teamfiles import load

NEVER_CONTACTED = """
reminders: {{ahead: 3}}
contacts:
  - {{owner: maarten, with: Gerrit de Boer, role: oud-collega, every: 1 year, medium: phone}}
"""


# -- an agreement that never had a contact -------------------------------------------------------

@pytest.mark.parametrize("language, first, repeat, none_yet", [
    ("nl", "Contact met Gerrit de Boer", "Nog even", "Er is nog geen contact vastgelegd."),
    ("en", "Get in touch with Gerrit de Boer", "Friendly reminder", "No contact has been logged yet."),
])
@pytest.mark.parametrize("today", [TODAY, date(2026, 1, 5), date(2027, 6, 30)])
def test_a_never_contacted_agreement_gets_first_reminders_without_an_invented_date(
        language, first, repeat, none_yet, today):
    team = make_team(NEVER_CONTACTED.format(), language=language)
    events = planned(team, today, kind="contact")
    assert len(events) == 3                                   # ahead: 3
    for event in events:
        assert event.title.startswith(first) and repeat not in event.title, event.title
        assert none_yet in event.description
        # No "open since 1 January 2024 (1078 days)": that date is only the grid's anchor.
        assert "2024" not in event.description
        assert not re.search(r"sinds|since|\(\d+ (dagen|days)\)", event.description), event.description


def test_the_example_s_gerrit_de_boer_gets_a_first_reminder():
    events = [e for e in planned(load(EXAMPLE), TODAY, kind="contact") if "Gerrit de Boer" in e.title]
    assert len(events) == 1
    [event] = events
    assert event.title.startswith("Contact met Gerrit de Boer")
    assert "Er is nog geen contact vastgelegd." in event.description
    assert "open sinds" not in event.description and "2024" not in event.description


def test_an_agreement_with_only_an_agreed_date_is_re_reminded_from_that_date():
    # `next` without `last` is a due date all the same: after it, a reminder is a repeat.
    team = make_team("""
    contacts:
      - {owner: maarten, with: Willem Bos, every: 6 months, next: 2026-10-13}
    """)
    [event] = planned(team, TODAY, kind="contact")
    assert event.title.startswith("Nog even")
    assert "Er is nog geen contact vastgelegd." in event.description
    assert f"open sinds 13 oktober 2026 ({(event.start.date() - date(2026, 10, 13)).days} dagen)" in event.description


# -- the days counted in a re-reminder -------------------------------------------------------------

def test_a_re_reminder_counts_the_days_to_its_own_day_not_to_the_grid_date():
    # Due Saturday 2026-09-05: the two-weekly grid falls on Saturdays (..., 11-28), the
    # reminder on the next working day, Monday 11-30: 86 days after the due date, not 84.
    team = make_team("""
    contacts:
      - {owner: maarten, with: Piet de Vries, every: 4 months, last: 2026-05-05}
    """)
    [event] = planned(team, TODAY, kind="contact")
    assert event.start.date() == date(2026, 11, 30)
    assert "open sinds 5 september 2026 (86 dagen)" in event.description


def test_every_re_reminder_of_the_example_counts_to_its_own_day():
    team = load(EXAMPLE)
    checked = 0
    for today in (TODAY, TODAY + timedelta(days=27)):
        for event in planned(team, today, kind="contact"):
            found = re.search(r"(?:open sinds|open since) (\d+) (\w+) (\d{4}) \((\d+) (?:dagen|days)\)",
                              event.description)
            if not found:
                continue
            due = date.fromisoformat(event.key.split("/")[3])
            assert int(found.group(4)) == (event.start.date() - due).days, (event.title, event.start)
            checked += 1
    assert checked >= 5


def test_ingrid_mulder_on_21_december_is_49_days_past_2_november():
    team = load(EXAMPLE)
    [event] = [e for e in planned(team, date(2026, 12, 15), kind="contact") if "Ingrid Mulder" in e.title]
    assert event.start.date() == date(2026, 12, 21)
    assert "open sinds 2 november 2026 (49 dagen)" in event.description


# -- Dutch: "elk jaar" (het jaar), "elke maand" (de maand) -----------------------------------------

@pytest.mark.parametrize("interval, nl, en", [
    (Interval(1, "days"), "elke dag", "every day"),
    (Interval(1, "weeks"), "elke week", "every week"),
    (Interval(1, "months"), "elke maand", "every month"),
    (Interval(1, "years"), "elk jaar", "every year"),
    (Interval(2, "days"), "elke 2 dagen", "every 2 days"),
    (Interval(6, "weeks"), "elke 6 weken", "every 6 weeks"),
    (Interval(4, "months"), "elke 4 maanden", "every 4 months"),
    (Interval(2, "years"), "elke 2 jaar", "every 2 years"),
])
def test_interval_text(interval, nl, en):
    assert (interval_text(interval, "nl"), interval_text(interval, "en")) == (nl, en)


def test_a_yearly_agreement_says_elk_jaar():
    team = make_team("""
    contacts:
      - {owner: maarten, with: Henk Jansen, every: 1 year, last: 2026-01-20}
    """)
    [event] = planned(team, date(2027, 1, 10), kind="contact")
    assert "Je hebt afgesproken elk jaar contact te hebben met Henk Jansen." in event.description
    assert "elke jaar" not in event.description
