"""Appending to the contact log, and what a logged contact does to the reminders."""
from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import pytest

from helpers import EXAMPLE, make_team, planned
from kalender_sync.core.contactlog import load_log
from kalender_sync.core.model import LoggedContact
from kalender_sync.core.planning import contact_status
from kalender_sync.core.errors import ConfigError, UsageError
from kalender_sync.storage.teamfiles import load
from kalender_sync.features.logbook import HEADER, append_contact, flow_scalar, format_entry, resolve_contact

TODAY = date(2026, 11, 24)


@pytest.fixture
def example(tmp_path) -> Path:
    shutil.copy(EXAMPLE, tmp_path / "team.yaml")
    shutil.copy(EXAMPLE.with_name("contacts-log.yaml"), tmp_path / "contacts-log.yaml")
    return tmp_path / "team.yaml"


def reminders(team, today, contact_id, person="maarten"):
    return [e.start for e in planned(team, today, kind="contact", person=person)
            if e.key.startswith(f"contact/{person}/{contact_id}/")]


def at(y, m, d, hh=9, mm=0):
    return (date(y, m, d), f"{hh:02d}:{mm:02d}")


def moments(starts):
    return [(s.date(), f"{s:%H:%M}") for s in starts]


# -- the line format ------------------------------------------------------------------------

NOTES = [
    "koffie bij RWS",
    'Zei "ja": prima',
    "key: value, and {braces} [brackets]",
    "café in Den Haag — très bien, Ærø, Ōsaka, 😀",
    "# not a comment",
    "lunch # also not a comment",
    "eerste regel\ntweede regel\n\nvierde: regel",
    "- starts like a list item",
    "yes",
    "null",
    "2026-11-20",
    "12:30",
    "back\\slash and 'single' quotes",
    "tab\there",
    "line\u2028separator and next\x85line",
    "*not an alias &not an anchor !not a tag %not a directive @at `tick`",
]


@pytest.mark.parametrize("note", NOTES)
def test_any_note_round_trips_through_the_log_reader(note):
    team = make_team("""\
        contacts:
          - {owner: maarten, with: Piet de Vries, every: 4 months}
        """)
    line = format_entry("maarten", "piet-de-vries", date(2026, 9, 14), date(2027, 1, 10), note)
    assert "\n" not in line and "\r" not in line
    assert line.startswith("- {who: maarten, with: piet-de-vries, on: 2026-09-14, next: 2027-01-10, note: \"")
    [entry] = load_log(team, line + "\n", "contacts-log.yaml").log
    assert entry == LoggedContact("maarten", "piet-de-vries", date(2026, 9, 14), date(2027, 1, 10), note, 1)


def test_the_line_looks_like_the_hand_written_ones():
    assert format_entry("maarten", "piet-de-vries", date(2026, 9, 14), date(2027, 1, 10), "lunch") == \
        '- {who: maarten, with: piet-de-vries, on: 2026-09-14, next: 2027-01-10, note: "lunch"}'
    assert format_entry("sanne", "annemiek-kok", date(2026, 11, 10)) == \
        "- {who: sanne, with: annemiek-kok, on: 2026-11-10}"


@pytest.mark.parametrize("value, written", [
    ("Piet de Vries", "Piet de Vries"), ("piet-de-vries", "piet-de-vries"), ("Café Noir", "Café Noir"),
    ("Gemeente 's-Hertogenbosch", "Gemeente 's-Hertogenbosch"),
    ("yes", '"yes"'), ("123", '"123"'), ("a, b", '"a, b"'), ("a: b", '"a: b"'), ("x #y", '"x #y"'),
    (" padded", '" padded"'), ("-dash", '"-dash"'), ("2026-01-01", '"2026-01-01"'),
])
def test_flow_scalar_is_plain_only_when_that_reads_back_the_same(value, written):
    assert flow_scalar(value) == written


# -- appending ----------------------------------------------------------------------------------

def test_logging_appends_one_line_and_moves_the_next_reminder(example):
    log = example.with_name("contacts-log.yaml")
    before = log.read_bytes()
    team = load(example)
    # Before: last contact 2026-07-01 + 4 months = due 2026-11-01, overdue, so a re-reminder on the
    # two-weekly grid from 2026-11-01: 11-15 (Sun) -> ... the shown one is the 2nd nudge, 2026-11-29
    # (Sun) -> Mon 2026-11-30 09:00.
    assert moments(reminders(team, TODAY, "piet-de-vries")) == [at(2026, 11, 30)]

    done = append_contact(example, team, "maarten", "Piet de Vries", date(2026, 11, 23), today=TODAY)

    after = log.read_bytes()
    assert after.startswith(before)                      # append-only: the old bytes are a prefix
    assert after[len(before):] == b"- {who: maarten, with: piet-de-vries, on: 2026-11-23}\n"
    assert done.line_number == before.count(b"\n") + 1
    reloaded = load(example)
    assert reloaded.log[-1] == LoggedContact("maarten", "piet-de-vries", date(2026, 11, 23), None, None,
                                             done.line_number)
    status = contact_status(reloaded, next(a for a in reloaded.contacts if a.id == "piet-de-vries"))
    # 2026-11-23 + 4 calendar months = 2027-03-23, a Tuesday: the reminder is that day at 09:00.
    assert (status.last, status.due, status.explicit) == (date(2026, 11, 23), date(2027, 3, 23), False)
    [start] = reminders(reloaded, TODAY, "piet-de-vries")
    assert start == datetime(2027, 3, 23, 9, 0, tzinfo=start.tzinfo) and start.strftime("%a") == "Tue"
    assert start.utcoffset().total_seconds() == 3600      # CET, before the switch to summer time
    # The freed slot: Ingrid Mulder's re-reminder (due 2026-11-02, nudge 2 on Mon 2026-11-30 -> pushed
    # to Tue 12-01 because Piet had the 30th) now gets Monday 2026-11-30 itself.
    assert moments(reminders(team, TODAY, "ingrid-mulder")) == [at(2026, 12, 1)]
    assert moments(reminders(reloaded, TODAY, "ingrid-mulder")) == [at(2026, 11, 30)]


def test_an_agreed_next_date_wins_over_the_interval(example):
    team = load(example)
    done = append_contact(example, team, "maarten", "piet", date(2026, 11, 23), date(2027, 1, 5),
                          "volgende keer lunch", today=TODAY)
    assert done.line == ('- {who: maarten, with: piet-de-vries, on: 2026-11-23, next: 2027-01-05, '
                         'note: "volgende keer lunch"}')
    status = contact_status(done.team, next(a for a in done.team.contacts if a.id == "piet-de-vries"))
    # The interval would give 2027-03-23; the agreed Tuesday 2027-01-05 wins.
    assert (status.due, status.explicit) == (date(2027, 1, 5), True)
    assert moments(reminders(load(example), TODAY, "piet-de-vries")) == [at(2027, 1, 5)]


def test_a_missing_log_is_created_with_a_header(example):
    log = example.with_name("contacts-log.yaml")
    log.unlink()
    done = append_contact(example, load(example), "sanne", "Joost", date(2026, 11, 20), today=TODAY)
    assert done.created
    assert log.read_text() == HEADER + "- {who: sanne, with: joost-willems, on: 2026-11-20}\n"
    assert done.line_number == HEADER.count("\n") + 1
    assert load(example).log[-1].agreement == "joost-willems"


def test_a_log_without_a_final_newline_gets_one_first(example):
    log = example.with_name("contacts-log.yaml")
    log.write_bytes(log.read_bytes().rstrip(b"\n"))
    before = log.read_bytes()
    append_contact(example, load(example), "ad", "carla", date(2026, 11, 23), today=TODAY)
    assert log.read_bytes() == before + b"\n- {who: ad, with: carla-wouters, on: 2026-11-23}\n"
    assert [e.agreement for e in load(example).log][-2:] == ["annemiek-kok", "carla-wouters"]


def test_a_crlf_log_keeps_its_line_endings(example):
    log = example.with_name("contacts-log.yaml")
    log.write_bytes(log.read_bytes().replace(b"\n", b"\r\n"))
    before = log.read_bytes()
    append_contact(example, load(example), "ad", "Ruud Claassen", date(2026, 11, 23), today=TODAY)
    assert log.read_bytes() == before + b"- {who: ad, with: ruud-claassen, on: 2026-11-23}\r\n"


def test_a_broken_log_is_reported_with_its_line_and_nothing_is_appended(example):
    log = example.with_name("contacts-log.yaml")
    team = load(example)
    log.write_text(log.read_text() + "- {who: maarten, with: piet-de-vries, on: 2026-13-01}\n")
    before = log.read_bytes()
    with pytest.raises(ConfigError) as caught:
        append_contact(example, team, "maarten", "Piet de Vries", date(2026, 11, 23), today=TODAY)
    assert [str(p) for p in caught.value.problems] == [
        f"{log}:6: [2].on: not a real date: month must be in 1..12 (got: 2026-13-01)"]
    assert "nothing was logged" in caught.value.args[0]
    assert log.read_bytes() == before


@pytest.mark.parametrize("on, next_date, message", [
    (date(2026, 11, 25), None, "--on 2026-11-25 is in the future (today is 2026-11-24)"),
    (date(2026, 11, 20), date(2026, 11, 20), "--next 2026-11-20 must come after the contact (--on 2026-11-20)"),
    (date(2026, 11, 20), date(2026, 11, 1), "--next 2026-11-01 must come after the contact"),
])
def test_impossible_dates_are_refused(example, on, next_date, message):
    log = example.with_name("contacts-log.yaml")
    before = log.read_bytes()
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        append_contact(example, load(example), "maarten", "Piet de Vries", on, next_date, today=TODAY)
    assert log.read_bytes() == before


def test_a_blank_note_is_left_out(example):
    done = append_contact(example, load(example), "maarten", "kees", date(2026, 11, 23), note="  ", today=TODAY)
    assert done.line == "- {who: maarten, with: kees-van-leeuwen, on: 2026-11-23}"


# -- forgiving names --------------------------------------------------------------------------

TWO_PIETS = """\
    contacts:
      - {owner: maarten, with: Piet de Vries, every: 4 months}
      - {owner: maarten, with: Pieter Post, every: 4 months}
      - {owner: maarten, with: Éva Müller, every: 4 months}
      - {owner: jw, with: Piet Jansen, every: 4 months}
    """


@pytest.mark.parametrize("name, agreement", [
    ("Piet de Vries", "piet-de-vries"), ("piet de vries", "piet-de-vries"), ("PIET DE", "piet-de-vries"),
    ("piet-de-vries", "piet-de-vries"), ("pieter", "pieter-post"), ("eva muller", "eva-muller"),
    ("Éva", "eva-muller"), ("EVA MÜLLER", "eva-muller"),
])
def test_names_match_forgivingly(name, agreement):
    assert resolve_contact(make_team(TWO_PIETS), "maarten", name).id == agreement


def test_an_ambiguous_name_lists_the_candidates():
    with pytest.raises(UsageError) as caught:
        resolve_contact(make_team(TWO_PIETS), "maarten", "piet")
    assert str(caught.value) == ("'piet' matches more than one contact of maarten: Piet de Vries, Pieter Post; "
                                 "type more of the name")


def test_an_unknown_name_lists_the_persons_contacts():
    with pytest.raises(UsageError) as caught:
        resolve_contact(make_team(TWO_PIETS), "maarten", "Jansen")
    assert str(caught.value) == ("'Jansen' is not a contact of maarten; candidates: Piet de Vries, Pieter Post, "
                                 "Éva Müller")


def test_an_unknown_person_lists_the_people():
    with pytest.raises(UsageError, match=r"unknown person: marten \(known: maarten, jw\)"):
        resolve_contact(make_team(TWO_PIETS), "marten", "piet")


# -- overdue: a kind re-reminder every 2 weeks until a contact is logged ------------------------

OVERDUE = """\
    reminders: {{max_per_week: {max_per_week}}}
    contacts:
      - {{owner: maarten, with: Olga Veen, every: 6 months, last: 2026-05-27}}
      - {{owner: maarten, with: Bert Kamp, every: 1 year, next: 2026-12-09}}
    """


@pytest.mark.parametrize("today, expected", [
    # Due 2026-05-27 + 6 months = Fri 2026-11-27; re-reminders every 2 weeks from that date, the grid
    # 11-27, 12-11, 12-25, 2027-01-08, 01-22 (all Fridays) does not drift with `today`.
    (date(2026, 11, 27), at(2026, 11, 27)),    # due day itself, nudge 0
    (date(2026, 11, 28), at(2026, 12, 11)),    # the due reminder is past: the first re-reminder
    (date(2026, 12, 11), at(2026, 12, 11)),
    (date(2026, 12, 12), at(2026, 12, 28)),    # Fri 12-25 Christmas, Sat 12-26 Boxing Day -> Mon 12-28
    (date(2026, 12, 29), at(2027, 1, 8)),
    (date(2027, 1, 9), at(2027, 1, 22)),
])
def test_an_overdue_contact_is_re_reminded_on_a_fixed_two_weekly_grid(today, expected):
    team = make_team(OVERDUE.format(max_per_week=2))
    assert moments(reminders(team, today, "olga-veen")) == [expected]


@pytest.mark.parametrize("today, expected", [
    (date(2026, 11, 27), at(2026, 11, 27)),
    # Bert Kamp's agreed Wed 2026-12-09 is placed first and fills week 50 (max 1 a week), so the
    # 12-11 re-reminder moves to the next working day in a week with room: Mon 2026-12-14.
    (date(2026, 11, 28), at(2026, 12, 14)),
    (date(2026, 12, 15), at(2026, 12, 28)),    # the grid is kept: 12-25 -> Mon 12-28, not 12-14 + 2 weeks
    # Bert Kamp is not logged either, so he is re-reminded on his own grid (12-09, 12-23, Wed 2027-01-06);
    # his 01-06 comes first in week 1 of 2027, so Olga's Fri 01-08 moves to Mon 2027-01-11 ...
    (date(2026, 12, 29), at(2027, 1, 11)),
    # ... and the next one is still counted from the grid (01-22), not from 01-11: Bert's Wed 01-20 fills
    # week 3, so it moves to Mon 2027-01-25.
    (date(2027, 1, 12), at(2027, 1, 25)),
])
def test_a_re_reminder_moves_to_the_next_working_day_with_free_capacity(today, expected):
    team = make_team(OVERDUE.format(max_per_week=1))
    assert moments(reminders(team, today, "olga-veen")) == [expected]


def test_logging_the_contact_stops_the_re_reminders(tmp_path):
    config = tmp_path / "team.yaml"
    from helpers import BASE
    import textwrap
    config.write_text(BASE.format(language="nl") + textwrap.dedent(OVERDUE.format(max_per_week=2)))
    today = date(2027, 1, 6)
    assert moments(reminders(load(config), today, "olga-veen")) == [at(2027, 1, 8)]
    append_contact(config, load(config), "maarten", "olga", date(2027, 1, 5), today=today)
    team = load(config)
    # 2027-01-05 + 6 months = Mon 2027-07-05: one reminder then, no more nudges before it.
    assert moments(reminders(team, today, "olga-veen")) == [at(2027, 7, 5)]
    assert all(e.key == "contact/maarten/olga-veen/2027-07-05/0"
               for e in planned(team, today, kind="contact", person="maarten") if "olga" in e.key)
    # ... and the same for every later `today` until then.
    for later in (date(2027, 1, 20), date(2027, 3, 1), date(2027, 7, 5)):
        assert moments(reminders(team, later, "olga-veen")) == [at(2027, 7, 5)]
