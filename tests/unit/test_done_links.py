"""Done links in the reminders, their tokens, snoozes and undo in the contact log."""
from __future__ import annotations

import os
import shutil
import stat
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from helpers import EXAMPLE, planned, tampered
from kalender_sync.core.contactlog import load_log
from kalender_sync.core.errors import ConfigError, UsageError
from kalender_sync.core.links import LINK_WEEKS, DoneLinks
from kalender_sync.core.planning import contact_status
from kalender_sync.features.logbook import append_contact, append_snooze, remove_line
from kalender_sync.storage.linkkey import KEY_ENV, key_path, link_key
from kalender_sync.storage.teamfiles import load

TODAY = date(2026, 11, 24)
LINKS = DoneLinks("https://agenda.example.nl", b"k" * 40)


@pytest.fixture
def example(tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv(KEY_ENV, raising=False)
    text = EXAMPLE.read_text(encoding="utf-8") + "\nfeed:\n  base_url: https://agenda.example.nl/\n"
    (tmp_path / "team.yaml").write_text(text, encoding="utf-8")
    shutil.copy(EXAMPLE.with_name("contacts-log.yaml"), tmp_path / "contacts-log.yaml")
    return tmp_path / "team.yaml"


def test_every_contact_reminder_carries_its_own_done_link_and_nothing_else_does(example):
    team = load(example)
    assert team.links is not None and team.links.base_url == "https://agenda.example.nl"
    events = planned(team, TODAY)
    reminders = [e for e in events if e.kind == "contact"]
    assert reminders and all("https://agenda.example.nl/done/" in e.description for e in reminders)
    assert not [e for e in events if e.kind != "contact" and "/done/" in e.description]
    for event in reminders:
        token = event.description.split("/done/")[1].split()[0]
        found = team.links.read_done(token, TODAY)
        _, owner, agreement, *_ = event.key.split("/")
        assert (found.person, found.agreement, found.occurrence) == (owner, agreement, event.start.date())
        assert "kalender-sync log" not in event.description        # the link takes the command's place


def test_the_same_plan_writes_the_same_links(example):
    first = [e.description for e in planned(load(example), TODAY)]
    assert first == [e.description for e in planned(load(example), TODAY)]


def test_the_key_is_made_once_private_and_check_makes_none(example):
    assert load(example, links="existing").links is None and not key_path(example).exists()
    key = link_key(example)
    assert stat.S_IMODE(key_path(example).stat().st_mode) == 0o600
    assert link_key(example) == key and len(key) >= 32


def test_the_key_from_the_environment_wins_and_must_be_long(example, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "s" * 40)
    assert link_key(example) == b"s" * 40 and not key_path(example).exists()
    monkeypatch.setenv(KEY_ENV, "short")
    with pytest.raises(UsageError, match="too short"):
        link_key(example)


def test_no_base_url_no_links(tmp_path):
    shutil.copy(EXAMPLE, tmp_path / "team.yaml")
    team = load(tmp_path / "team.yaml")
    assert team.links is None
    assert all("/done/" not in e.description and "kalender-sync log" in e.description
               for e in planned(team, TODAY, kind="contact"))
    assert not key_path(tmp_path / "team.yaml").exists()


@settings(max_examples=200, deadline=None)
@given(person=st.text(min_size=1, max_size=20), agreement=st.text(min_size=1, max_size=30),
       days=st.integers(-400, 400), flip=st.integers(0, 200))
def test_a_token_reads_back_and_any_change_to_it_is_refused(person, agreement, days, flip):
    day = TODAY + timedelta(days=days)
    token = LINKS.done_token(person, agreement, day)
    found = LINKS.read_done(token, day)
    assert (found.person, found.agreement, found.occurrence) == (person, agreement, day)
    assert LINKS.read_done(tampered(token, flip % len(token)), day) is None
    assert DoneLinks("x", b"another key of enough length!!!!").read_done(token, day) is None
    assert LINKS.read_done(token, day + timedelta(weeks=LINK_WEEKS)) is not None
    assert LINKS.read_done(token, day + timedelta(weeks=LINK_WEEKS, days=1)) is None
    assert LINKS.read_page(token) is None                        # a done token opens no personal page


def test_a_snooze_moves_the_next_reminder_until_a_contact_is_logged(example):
    team = load(example)
    agreement = next(a for a in team.contacts if a.owner == "maarten" and a.contact == "Piet de Vries")
    snoozed = append_snooze(example, team, "maarten", "Piet de Vries", date(2027, 1, 19), today=TODAY,
                            answered=date(2026, 11, 16))
    assert snoozed.line == "- {who: maarten, with: piet-de-vries, snooze: 2027-01-19, for: 2026-11-16}"
    team = load(example)
    assert contact_status(team, agreement).due == date(2027, 1, 19)
    starts = [e.start.date() for e in planned(team, TODAY, kind="contact", person="maarten")
              if e.key.startswith("contact/maarten/piet-de-vries/")]
    assert starts[0] >= date(2027, 1, 19)
    append_contact(example, team, "maarten", "Piet de Vries", date(2026, 11, 20), today=TODAY)
    team = load(example)
    assert contact_status(team, agreement).due == agreement.every.after(date(2026, 11, 20))


def test_acting_twice_writes_one_line_and_undo_takes_exactly_it_out(example):
    team = load(example)
    before = (example.parent / "contacts-log.yaml").read_bytes()
    first = append_contact(example, team, "sanne", "Joost", date(2026, 11, 20), note="bel", today=TODAY,
                           answered=date(2026, 11, 18), once=True)
    again = append_contact(example, team, "sanne", "Joost", date(2026, 11, 21), today=TODAY,
                           answered=date(2026, 11, 18), once=True)
    snooze = append_snooze(example, team, "sanne", "Joost", date(2027, 1, 5), today=TODAY,
                           answered=date(2026, 11, 18), once=True)
    assert not first.already and again.already and snooze.already and again.line == first.line
    assert (example.parent / "contacts-log.yaml").read_bytes() == before + (first.line + "\n").encode()
    assert remove_line(example, team, first.line, TODAY)
    assert (example.parent / "contacts-log.yaml").read_bytes() == before
    assert not remove_line(example, team, first.line, TODAY)


def test_a_snooze_with_a_contact_date_is_refused_with_its_line(example):
    log = example.parent / "contacts-log.yaml"
    log.write_text(log.read_text() + "- {who: maarten, with: piet, on: 2026-11-20, snooze: 2027-01-05}\n")
    with pytest.raises(ConfigError) as caught:
        load(example)
    lines = log.read_text().count("\n")
    assert f"contacts-log.yaml:{lines}: [2].snooze: a snooze logs no contact" in str(caught.value)


def test_a_log_of_only_comments_is_an_empty_log(example):
    team = load(example)
    assert load_log(replace(team, log=()), "# only the header\n\n# nothing else\n", "log.yaml").log == ()
    assert os.path.exists(example)


def test_a_snooze_undone_down_to_the_bare_header_can_be_made_again(example):
    """The log read from disk is the truth: a team loaded while the snooze was there must not
    make the new one look like a replay once the log is back to only its comments."""
    from kalender_sync.features.logbook import HEADER
    log = example.parent / "contacts-log.yaml"
    log.write_text(HEADER, encoding="utf-8")
    team = load(example)
    snooze = append_snooze(example, team, "sanne", "Joost", date(2027, 1, 5), today=TODAY,
                           answered=date(2026, 11, 18), once=True)
    stale = load(example)
    assert [s.until for s in stale.snoozes] == [date(2027, 1, 5)]
    assert remove_line(example, stale, snooze.line, TODAY)
    assert log.read_text(encoding="utf-8") == HEADER
    again = append_snooze(example, stale, "sanne", "Joost", date(2027, 1, 6), today=TODAY,
                          answered=date(2026, 11, 18), once=True)
    assert not again.already
    assert log.read_text(encoding="utf-8") == HEADER + again.line + "\n"
