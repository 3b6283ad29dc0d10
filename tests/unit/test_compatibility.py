"""The compatibility checklist: one test per rule, over every file, feed, CalDAV object and mail
the tool generates. The rules come from ../shared/reference/field-notes.md (what breaks Outlook,
Google and strict parsers)."""
from __future__ import annotations

import email
import re
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar

from helpers import EXAMPLE
from kalender_sync.core.timezones import VTimezones
from kalender_sync.engine.runs import stamp_for
from kalender_sync.core.config import load_team
from kalender_sync.core.contactlog import load_log
from kalender_sync.core.planning import plan
from kalender_sync.core.render import render_object
from kalender_sync.core.invitations import for_calendars, plan_mails
from kalender_sync.storage.invites import InviteState
from kalender_sync.engine.feeds import render_feed
from kalender_sync.targets.mail import build_message

TODAY = date(2026, 11, 24)
MAIL = """
mail: {organizer: coach@example.nl, organizer_name: Netwerkcoach, smtp_host: 127.0.0.1, smtp_port: 2525,
       security: none, invite: [session, aftercare]}
"""


def _team(text: str):
    team = load_team(text, "example.yaml")
    return load_log(team, EXAMPLE.with_name("contacts-log.yaml").read_text(encoding="utf-8"), "log")


def _mail_rounds(tmp_path: Path) -> list[email.message.Message]:
    """Invitations over three versions of the config: new, moved, removed."""
    base = EXAMPLE.read_text(encoding="utf-8") + MAIL
    versions = [base, base.replace('start: "14:00"}', 'start: "15:00"}'),
                base.replace("  - name: Bel-uurtje\n", "  - name: Bel-uurtje-weg\n")]
    state = InviteState(tmp_path / "invites.sqlite")
    messages = []
    for index, text in enumerate(versions):
        team = _team(text)
        stamp = stamp_for(TODAY) + timedelta(minutes=index)
        mails = plan_mails(plan(team, TODAY).events, team, state.load(), TODAY).mails
        assert mails, f"round {index} sends nothing"
        for mail in mails:
            messages.append(email.message_from_bytes(bytes(build_message(mail, team.mail, stamp))))
            state.record(mail, stamp.isoformat())
    state.close()
    return messages


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory) -> dict[str, list[tuple[str, bytes]]]:
    team = _team(EXAMPLE.read_text(encoding="utf-8"))
    the_plan = plan(team, TODAY)
    stamp = stamp_for(TODAY)
    files = [(f"file {p}", data) for p, data in _exported(tmp_path_factory.mktemp("files")).items()]
    feeds = [(f"feed {p}", render_feed(team, the_plan, p)) for p in team.people]
    zones = VTimezones()
    objects = [(f"caldav {e.key}", render_object(e, stamp, 0, "nl", zones)) for e in the_plan.events]
    invited_team = _team(EXAMPLE.read_text(encoding="utf-8") + MAIL)
    assert len(for_calendars(plan(invited_team, TODAY), invited_team).events) < len(plan(invited_team, TODAY).events)
    messages = _mail_rounds(tmp_path_factory.mktemp("mail"))
    mails = []
    for message in messages:
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                mails.append((f"mail {message['X-Kalender-Sync-Invite']} {part.get_param('method')}",
                              part.get_payload(decode=True)))
    return {"file": files, "feed": feeds, "caldav": objects, "mail": mails, "messages": messages}


def _exported(folder) -> dict[str, bytes]:
    """The files `export` writes for the example team (in-process, the real file target)."""
    from support.cli import run_in_process
    result = run_in_process("export", "--config", str(EXAMPLE), "--today", TODAY.isoformat(), "--out", str(folder))
    assert result.returncode == 0, result.stderr
    return {p.stem: p.read_bytes() for p in sorted(folder.glob("*.ics"))}


def _all(artefacts):
    for kind in ("file", "feed", "caldav", "mail"):
        for name, data in artefacts[kind]:
            yield kind, name, data


def test_there_is_something_of_every_kind(artefacts):
    assert {k: len(v) for k, v in artefacts.items() if k != "messages"} == {
        "file": 5, "feed": 5, "caldav": len(artefacts["caldav"]), "mail": len(artefacts["mail"])}
    assert len(artefacts["caldav"]) > 50 and len(artefacts["mail"]) > 10


def test_rule_every_tzid_has_a_vtimezone(artefacts):
    for _, name, data in _all(artefacts):
        text = data.decode()
        declared = {str(tz["tzid"]) for tz in Calendar.from_ical(data).walk("VTIMEZONE")}
        used = set(re.findall(r";TZID=([^:;]+)[:;]", text))
        assert used <= declared, name


def test_rule_no_floating_timed_events(artefacts):
    for _, name, data in _all(artefacts):
        for event in Calendar.from_ical(data).walk("VEVENT"):
            for prop in ("dtstart", "dtend"):
                value = event.decoded(prop)
                if isinstance(value, datetime):
                    assert value.tzinfo is not None, (name, prop)


def test_rule_all_day_events_have_an_exclusive_end(artefacts):
    seen = 0
    for _, name, data in _all(artefacts):
        for event in Calendar.from_ical(data).walk("VEVENT"):
            start = event.decoded("dtstart")
            if not isinstance(start, datetime):
                seen += 1
                assert event.decoded("dtend") > start, name
                assert "VALUE=DATE" in event["dtstart"].to_ical().decode() or event["dtstart"].params.get("VALUE") == "DATE"
    assert seen > 0


def test_rule_at_most_one_alarm_with_a_relative_trigger(artefacts):
    for _, name, data in _all(artefacts):
        for event in Calendar.from_ical(data).walk("VEVENT"):
            alarms = event.walk("VALARM")
            assert len(alarms) <= 1, name
            for alarm in alarms:
                assert isinstance(alarm.decoded("trigger"), timedelta), name
                assert alarm["action"] == "DISPLAY"


def test_rule_publish_carries_no_attendee(artefacts):
    for kind in ("file", "feed"):
        for name, data in artefacts[kind]:
            calendar = Calendar.from_ical(data)
            assert calendar["method"] == "PUBLISH", name
            assert all("attendee" not in e for e in calendar.walk("VEVENT")), name


def test_rule_caldav_objects_carry_no_method(artefacts):
    for name, data in artefacts["caldav"]:
        assert "method" not in Calendar.from_ical(data), name      # RFC 4791 §4.1


def test_rule_request_and_cancel_carry_organizer_and_attendees(artefacts):
    methods = set()
    for name, data in artefacts["mail"]:
        calendar = Calendar.from_ical(data)
        methods.add(str(calendar["method"]))
        for event in calendar.walk("VEVENT"):
            assert str(event["organizer"]) == "mailto:coach@example.nl", name
            assert event.get("attendee"), name
    assert methods == {"REQUEST", "CANCEL"}


def test_rule_mime_method_matches_the_icalendar_method(artefacts):
    for message in artefacts["messages"]:
        parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        assert len(parts) == 1
        body = Calendar.from_ical(parts[0].get_payload(decode=True))
        assert parts[0].get_param("method") == str(body["method"])
        assert message["X-Kalender-Sync-Invite"].endswith(str(body["method"]))


def test_rule_sequence_rises_per_uid(artefacts):
    sequences: dict[str, list[int]] = defaultdict(list)
    for _, data in artefacts["mail"]:
        for event in Calendar.from_ical(data).walk("VEVENT"):
            sequences[str(event["uid"])].append(int(event["sequence"]))
    assert any(len(set(s)) >= 3 for s in sequences.values())      # new, changed, cancelled
    for uid, seen in sequences.items():
        assert seen == sorted(seen), uid


def test_rule_lines_are_folded_at_75_octets_with_crlf(artefacts):
    for _, name, data in _all(artefacts):
        assert b"\n" not in data.replace(b"\r\n", b""), name
        assert all(len(line) <= 75 for line in data.split(b"\r\n")), name


def test_invitations_do_not_promise_that_the_recipients_edits_are_kept(artefacts):
    for name, data in artefacts["mail"]:
        for event in Calendar.from_ical(data).walk("VEVENT"):
            description = str(event.get("description", ""))
            assert "blijven staan" not in description and "are kept" not in description, name
