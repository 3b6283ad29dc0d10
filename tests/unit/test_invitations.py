"""The pure planning of invitation mails: which mails, which METHOD, which SEQUENCE.

State is simulated by recording the planned mails in a real InviteState (SQLite in a tmp
dir), exactly as the sender does after each accepted mail; no network.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from icalendar import Calendar

from kalender_sync.core.config import load_team
from kalender_sync.core.planning import plan
from kalender_sync.core.invitations import (CANCEL, CANCELLED, CHANGED, MASS_CANCEL_MAXIMUM, NEW,
                                            PLACEHOLDER_ORGANIZER, REMOVED, REQUEST, invitations, invite_uid,
                                            mass_cancellation, missing_for_sending, placeholder_settings,
                                            plan_mails, subject)
from kalender_sync.storage.invites import InviteState

TODAY = date(2026, 11, 24)
TZ = ZoneInfo("Europe/Amsterdam")

BASE = """\
version: 1
team: Netwerkteam
timezone: Europe/Amsterdam
language: nl
holidays: NL
horizon: 6 months
working_hours: {{days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}}
calendars:
  files: {{ics: "out/{{person}}.ics"}}
people:
  maarten: {{name: Maarten van Os, email: maarten@example.nl, calendar: files}}
  jw: {{name: Jan-Willem van den Brink, email: jw@example.nl, calendar: files, language: en}}
  anna: {{name: Anna de Wit, email: anna@example.nl, calendar: files}}
  sanne: {{name: Sanne Bakker, calendar: files}}
mail:
  organizer: netwerk@example.nl
  smtp_host: smtp.example.nl
  invite: [{invite}]
contacts:
  - {{owner: maarten, with: Piet de Vries, every: 3 months, last: 2026-10-01}}
{body}"""

SESSION = """\
sessions:
  - name: Bel-uurtje
    every: quarter
    participants: {participants}
    prefer: {{weekday: thu, start: "{start}"}}
    duration: 1h
"""


def team_for(participants: str = "[maarten, jw, anna]", start: str = "14:00", extra: str = "",
             invite: str = "session, aftercare, meeting", session: bool = True):
    body = (SESSION.format(participants=participants, start=start) if session else "") + extra
    return load_team(BASE.format(body=body, invite=invite), "team.yaml")


class Harness:
    """plan -> mails -> record, the way `kalender-sync invite` runs, minus SMTP."""

    def __init__(self, path):
        self.state = InviteState(path)
        self.sent: list = []

    def plan(self, team, today: date = TODAY, events=None):
        events = plan(team, today).events if events is None else events
        return plan_mails(events, team, self.state.load(), today)

    def run(self, team, today: date = TODAY, events=None, deliver=lambda mail: True):
        mail_plan = self.plan(team, today, events)
        for mail in mail_plan.mails:
            if deliver(mail):
                self.state.record(mail, "20261124T120000Z")
                self.sent.append(mail)
        return mail_plan.mails


@pytest.fixture
def harness(tmp_path):
    h = Harness(tmp_path / "invites.sqlite")
    yield h
    h.state.close()


def by_uid(mails):
    result = {}
    for mail in mails:
        result.setdefault(mail.uid, []).append(mail)
    return result


def test_one_request_per_attendee_with_an_address_and_people_without_one_are_reported(harness):
    team = team_for("all")
    mails = harness.plan(team)
    sessions = [e for e in plan(team, TODAY).events if e.kind == "session"]
    groups = sorted({e.group for e in sessions})
    assert groups == ["session/bel-uurtje/2027-01", "session/bel-uurtje/2027-04"]
    assert {m.uid for m in mails.mails} == {invite_uid(g) for g in groups}
    assert len(mails.mails) == len(groups) * 3                    # maarten, jw, anna; not sanne
    assert {(m.method, m.reason, m.sequence) for m in mails.mails} == {(REQUEST, NEW, 0)}
    assert all({a.person for a in m.attendees} == {"maarten", "jw", "anna"} for m in mails.mails)
    assert mails.skipped == ["Sanne Bakker (sanne) has no e-mail address: not invited to 2 events"]
    # The contact reminder (one person, personal) is never an invitation.
    assert not [m for m in mails.mails if m.kind == "contact"]
    # Each recipient gets the event in their own language.
    first = [m for m in mails.mails if m.group == groups[0]]
    assert {m.to.person: subject(m) for m in first} == {
        "anna": "Uitnodiging: Bel-uurtje, do 7 jan 2027 14:00",
        "jw": "Invitation: Bel-uurtje, Thu 7 Jan 2027 14:00",
        "maarten": "Uitnodiging: Bel-uurtje, do 7 jan 2027 14:00"}


def test_unchanged_sends_nothing_and_a_change_is_the_same_uid_with_the_next_sequence(harness):
    first = harness.run(team_for())
    assert len(first) == 6
    assert harness.run(team_for()) == []
    assert harness.plan(team_for()).unchanged == 2
    moved = harness.run(team_for(start="15:00"))
    assert len(moved) == 6
    assert {m.uid for m in moved} == {m.uid for m in first}
    assert {(m.method, m.reason, m.sequence) for m in moved} == {(REQUEST, CHANGED, 1)}
    assert {m.start.hour for m in moved} == {15}
    assert harness.run(team_for(start="15:00")) == []
    gone = harness.run(team_for(session=False))
    assert len(gone) == 6
    assert {(m.method, m.reason, m.sequence) for m in gone} == {(CANCEL, CANCELLED, 2)}
    assert {m.start.hour for m in gone} == {15}                   # what they have in their calendar
    for uid, mails in by_uid(gone).items():                       # RFC 5546: all cancelled attendees listed
        assert all({a.person for a in m.attendees} == {"maarten", "jw", "anna"} for m in mails)
    assert harness.run(team_for(session=False)) == []
    back = harness.run(team_for())
    assert {(m.method, m.reason, m.sequence) for m in back} == {(REQUEST, NEW, 3)}


def test_a_removed_attendee_alone_gets_the_cancel(harness):
    harness.run(team_for("[maarten, jw, anna]"))
    mails = harness.run(team_for("[maarten, jw]"))
    cancels = [m for m in mails if m.method == CANCEL]
    assert {m.to.person for m in cancels} == {"anna"} and len(cancels) == 2
    assert all(m.reason == REMOVED and m.sequence == 1 for m in cancels)
    assert all([a.person for a in m.attendees] == ["anna"] for m in cancels)
    # The description names the participants, so the others see a change: same UID, same new SEQUENCE.
    requests = [m for m in mails if m.method == REQUEST]
    assert {m.to.person for m in requests} == {"maarten", "jw"}
    assert {(m.reason, m.sequence) for m in requests} == {(CHANGED, 1)}
    assert all({a.person for a in m.attendees} == {"maarten", "jw"} for m in requests)
    assert harness.run(team_for("[maarten, jw]")) == []
    again = harness.run(team_for("[maarten, jw, anna]"))
    assert {(m.to.person, m.method, m.reason, m.sequence) for m in again if m.to.person == "anna"} == {
        ("anna", REQUEST, NEW, 2)}


def test_a_removed_attendee_alone_gets_mail_when_what_the_others_see_is_unchanged(harness):
    """Built from planned events directly: the others' event text does not change."""
    team = team_for()
    events = [e for e in plan(team, TODAY).events if e.kind == "session"]
    harness.run(team, events=events)
    # anna no longer takes part; maarten's and jw's events stay exactly as they were.
    fewer = [replace(e, attendees=("maarten", "jw")) for e in events if e.person != "anna"]
    mails = harness.run(team, events=fewer)
    assert {(m.to.person, m.method, m.reason, m.sequence) for m in mails} == {("anna", CANCEL, REMOVED, 1)}
    assert len(mails) == 2
    assert harness.run(team, events=fewer) == []
    back = harness.run(team, events=events)                         # anna is back: only she hears
    assert {(m.to.person, m.method, m.reason, m.sequence) for m in back} == {("anna", REQUEST, NEW, 2)}
    # An address change is a removal of the old address and a new invitation for the new one.
    moved = load_team(BASE.replace("anna@example.nl", "anna.dewit@example.nl").format(
        body=SESSION.format(participants="[maarten, jw, anna]", start="14:00"),
        invite="session"), "team.yaml")
    mails = harness.run(moved, events=events)
    assert sorted((m.to.email, m.method) for m in mails) == [
        ("anna.dewit@example.nl", REQUEST), ("anna.dewit@example.nl", REQUEST),
        ("anna@example.nl", CANCEL), ("anna@example.nl", CANCEL)]
    assert {m.sequence for m in mails} == {3}                     # a new version, the others not bothered


def test_past_events_are_history_never_cancelled(harness):
    harness.run(team_for())
    after_first = date(2027, 1, 8)                                 # the January session has been
    # Still configured: January is no longer planned (it is past), April is unchanged; only the
    # July session, now inside the horizon, is new.
    later = harness.plan(team_for(), after_first)
    assert {(m.group, m.method, m.reason) for m in later.mails} == {("session/bel-uurtje/2027-07", REQUEST, NEW)}
    assert later.history == 1 and later.unchanged == 1
    # Removed from the config: only April is cancelled.
    mails = harness.plan(team_for(session=False), after_first).mails
    assert {m.group for m in mails} == {"session/bel-uurtje/2027-04"}
    assert {m.method for m in mails} == {CANCEL}
    # An attendee removed after January: she is only taken off April.
    team = team_for("[maarten, jw]")
    events = [e for e in plan(team, after_first).events if e.group != "session/bel-uurtje/2027-07"]
    cancels = [m for m in harness.plan(team, after_first, events).mails if m.method == CANCEL]
    assert {(m.group, m.to.person) for m in cancels} == {("session/bel-uurtje/2027-04", "anna")}
    # The January event moves past its old date (as aftercare does when a project end moves):
    # the others get the new date; anna, taken off, keeps her past copy: no CANCEL for history.
    week = timedelta(days=7)
    moved = [replace(e, start=e.start + week, end=e.end + week, attendees=("maarten", "jw"))
             for e in plan(team_for(), TODAY).events
             if e.group == "session/bel-uurtje/2027-01" and e.person != "anna"]
    mails = [m for m in harness.plan(team_for(), after_first, moved).mails
             if m.group == "session/bel-uurtje/2027-01"]
    assert {(m.to.person, m.method, m.reason) for m in mails} == {("maarten", REQUEST, CHANGED),
                                                                  ("jw", REQUEST, CHANGED)}
    # On the day itself it is not history yet.
    assert {m.group for m in harness.plan(team_for(session=False), date(2027, 1, 7)).mails} == {
        "session/bel-uurtje/2027-01", "session/bel-uurtje/2027-04"}


def test_a_half_finished_run_continues_with_the_same_sequence_and_never_sends_twice(harness):
    harness.run(team_for())
    attempted = []

    def flaky(mail):                       # only every other mail gets through
        attempted.append(mail)
        return len(attempted) % 2 == 1

    first = harness.run(team_for(start="15:00"), deliver=flaky)
    assert {m.sequence for m in first} == {1}
    rest = harness.run(team_for(start="15:00"))
    assert len(rest) == 3 and {m.sequence for m in rest} == {1}
    assert {(m.uid, m.to.address) for m in rest} == {(m.uid, m.to.address) for m in first[1::2]}
    assert harness.run(team_for(start="15:00")) == []
    # A cancel that failed half-way is owed, and keeps its number.
    attempted.clear()
    harness.run(team_for(session=False), deliver=flaky)
    rest = harness.run(team_for(session=False))
    assert len(rest) == 3 and {(m.method, m.sequence) for m in rest} == {(CANCEL, 2)}
    assert harness.run(team_for(session=False)) == []


def test_which_kinds_become_invitations():
    extra = """\
projects:
  - {name: ERP Tilburg, team: [maarten, jw], end: 2026-12-18, aftercare: [6 weeks]}
  - {name: Solo klus, team: [anna], end: 2026-12-18, aftercare: [6 weeks]}
meetings:
  - {name: SAM netwerkbijeenkomst, at: 2027-02-10 15:00, representative: maarten, colleagues: all,
     prepare: 2 weeks before, report_back: 1 day after}
"""
    team = team_for("[anna]", extra=extra)
    events = plan(team, TODAY).events
    assert {e.kind for e in events} >= {"session", "aftercare", "meeting", "prepare", "report_back", "contact"}
    invited = invitations(events, team)
    # aftercare of a two-person team: yes; a one-person session or aftercare, the representative's
    # meeting, and the all-day prepare / report-back days: no.
    assert [inv.group for inv in invited] == ["aftercare/erp-tilburg/6-weeks"]
    assert [a.person for a in invited[0].attendees] == ["maarten", "jw"]
    # mail.invite chooses the families.
    assert invitations(plan(team_for(invite="aftercare"), TODAY).events, team_for(invite="aftercare")) == []
    assert invitations(plan(team_for(invite="meeting"), TODAY).events, team_for(invite="meeting")) == []


@st.composite
def steps(draw):
    variants = st.tuples(st.sampled_from(["[maarten, jw, anna]", "[maarten, jw]", "[jw, anna]", "all"]),
                         st.sampled_from(["10:00", "14:00"]), st.booleans())
    return draw(st.lists(variants, min_size=1, max_size=6))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(steps())
def test_sequence_only_goes_up_and_every_run_converges(tmp_path_factory, variants):
    harness = Harness(tmp_path_factory.mktemp("seq") / "invites.sqlite")
    last: dict[str, int] = {}
    try:
        for participants, start, present in variants:
            team = team_for(participants, start, session=present)
            mails = harness.run(team)
            for uid, group in by_uid(mails).items():
                numbers = {m.sequence for m in group}
                assert len(numbers) == 1, "one version per run"
                number = numbers.pop()
                if uid in last:
                    assert number > last[uid]
                else:
                    assert number == 0
                last[uid] = number
            assert harness.run(team) == []                       # unchanged: nothing
            # Every current attendee has the current content; nobody else holds a live copy.
            stored = harness.state.load()
            planned = {inv.uid: inv for inv in invitations(plan(team, TODAY).events, team)}
            for uid, record in stored.items():
                live = {a for a, seen in record.recipients.items() if seen.method == REQUEST}
                expected = {a.address for a in planned[uid].attendees} if uid in planned else set()
                assert live == expected
    finally:
        harness.state.close()


def test_mail_plan_is_pure_and_deterministic(harness):
    team = team_for()
    events = plan(team, TODAY).events
    assert plan_mails(events, team, {}, TODAY) == plan_mails(list(reversed(events)), team, {}, TODAY)
    harness.run(team)
    stored = harness.state.load()
    assert plan_mails(events, team, stored, TODAY).mails == []
    assert harness.state.load() == stored


def test_ics_of_a_mail_has_method_organizer_attendees_and_a_timezone():
    from kalender_sync.targets.mail import build_message, render_ics
    team = team_for()
    mail = plan_mails(plan(team, TODAY).events, team, {}, TODAY).mails[0]
    stamp = datetime(2026, 11, 24, 12, 0, tzinfo=TZ)
    data = render_ics(mail, team.mail, stamp)
    assert b"\r\n" in data and all(len(line) <= 75 for line in data.split(b"\r\n"))
    calendar = Calendar.from_ical(data)
    assert str(calendar["METHOD"]) == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert str(event["ORGANIZER"]) == "mailto:netwerk@example.nl"
    assert event["ORGANIZER"].params["CN"] == "Netwerkteam"
    assert {str(a) for a in event["ATTENDEE"]} == {"mailto:maarten@example.nl", "mailto:jw@example.nl",
                                                    "mailto:anna@example.nl"}
    assert all(a.params["RSVP"] == "TRUE" and a.params["PARTSTAT"] == "NEEDS-ACTION"
               and a.params["ROLE"] == "REQ-PARTICIPANT" for a in event["ATTENDEE"])
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == [event["DTSTART"].params["TZID"]]
    assert "X-KALENDER-SYNC-KEY" not in event                  # sync must never claim an invitation
    message = build_message(mail, team.mail, stamp)
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "REQUEST"
    [attachment] = [p for p in message.walk() if p.get_filename() == "invite.ics"]
    assert attachment.get_content_type() == "application/ics" and attachment.get_content() == data


def test_one_line_subjects_even_for_odd_titles():
    team = team_for()
    mail = plan_mails(plan(team, TODAY).events, team, {}, TODAY).mails[0]
    odd = replace(mail, title="Bel-\r\nuurtje\nBcc: x@example.nl")
    assert "\n" not in subject(odd) and "\r" not in subject(odd)


def test_dst_and_the_all_day_text():
    team = team_for()
    mail = plan_mails(plan(team, TODAY).events, team, {}, TODAY).mails[0]
    summer = replace(mail, start=datetime(2027, 7, 1, 14, 0, tzinfo=TZ), end=datetime(2027, 7, 1, 15, 0, tzinfo=TZ))
    assert subject(summer).endswith("do 1 jul 2027 14:00")
    whole = replace(mail, start=date(2027, 7, 1), end=date(2027, 7, 2))
    assert subject(whole).endswith("do 1 jul 2027")
    assert timedelta(hours=1) == summer.end - summer.start


# --- the guard against mass cancellation (issue 11) ------------------------------------------

MONTHLY = """\
  - name: Intervisie
    every: month
    participants: [maarten, jw, anna]
    prefer: {weekday: tue, start: "10:00"}
    duration: 1h
"""


def test_deleting_a_series_is_refused_with_what_it_would_cancel(harness):
    harness.run(team_for("all"))
    stored = harness.state.load()
    gone = harness.plan(team_for(session=False))
    assert {m.method for m in gone.mails} == {CANCEL} and len(gone.mails) == 6
    found = mass_cancellation(gone, stored)
    assert found is not None and found.cancels == 6
    [ending] = found.series
    assert (ending.series, ending.title, ending.occurrences) == ("session/bel-uurtje", "Bel-uurtje", 2)
    assert ending.people == ("Anna de Wit", "Jan-Willem van den Brink", "Maarten van Os")
    assert found.per_person == (("Anna de Wit (anna)", 2), ("Jan-Willem van den Brink (jw)", 2),
                                ("Maarten van Os (maarten)", 2))
    assert found.headline() == ("refused to cancel 6 invitations (every future occurrence of 1 series); "
                                "nothing was sent")
    assert "--force-cancel" in "\n".join(found.details())
    # Unchanged, or changed without cancelling: no refusal.
    assert mass_cancellation(harness.plan(team_for("all")), stored) is None
    assert mass_cancellation(harness.plan(team_for("all", start="15:00")), stored) is None


def test_a_series_cut_down_to_one_person_is_refused_a_removed_attendee_is_not(harness):
    harness.run(team_for("all"))
    stored = harness.state.load()
    # participants: [anna] where [maarten, jw, anna] was meant: a one-person session is no
    # invitation, so everyone, anna too, would get a CANCEL for every occurrence.
    alone = harness.plan(team_for("[anna]"))
    found = mass_cancellation(alone, stored)
    assert found is not None and [e.series for e in found.series] == ["session/bel-uurtje"]
    assert found.cancels == 6
    # One person off a series that goes on: an ordinary change.
    fewer = harness.plan(team_for("[maarten, jw]"))
    assert {(m.method, m.to.person) for m in fewer.mails if m.method == CANCEL} == {(CANCEL, "anna")}
    assert mass_cancellation(fewer, stored) is None


def three_series(participants: str):
    """A quarterly calling hour at 14:00 and at 15:00, and a monthly session, all with `participants`."""
    body = (SESSION.format(participants=participants, start="14:00")
            + SESSION.format(participants=participants, start="15:00").replace("sessions:\n", "").replace(
                "Bel-uurtje", "Bel-uurtje laat")
            + MONTHLY.replace("[maarten, jw, anna]", participants))
    return team_for(session=False, extra=body)


def test_more_than_the_maximum_of_cancellations_at_once_is_refused(harness):
    harness.run(three_series("[maarten, jw, anna]"))
    stored = harness.state.load()
    # anna leaves all three series: 2 + 2 + 6 = 10 cancellations, and every series goes on.
    ten = harness.plan(three_series("[maarten, jw]"))
    assert sum(m.method == CANCEL for m in ten.mails) == 10 == MASS_CANCEL_MAXIMUM
    assert mass_cancellation(ten, stored) is None
    # anna and jw leave, sanne (no address) joins: 20 cancellations, none of the series ends.
    twenty = harness.plan(three_series("[maarten, sanne]"))
    cancels = [m for m in twenty.mails if m.method == CANCEL]
    assert len(cancels) == 20 > MASS_CANCEL_MAXIMUM and {m.reason for m in cancels} == {REMOVED}
    found = mass_cancellation(twenty, stored)
    assert found is not None and found.series == () and found.cancels == 20
    assert found.per_person == (("Anna de Wit (anna)", 10), ("Jan-Willem van den Brink (jw)", 10))
    assert found.headline() == ("refused to cancel 20 invitations (more than 10 invitations at once); "
                                "nothing was sent")


def test_a_forced_cancellation_that_stopped_half_way_is_finished_without_forcing_again(harness):
    harness.run(team_for("all"))
    attempted = []

    def flaky(mail):                       # the run stops after the first mail got through
        attempted.append(mail)
        return len(attempted) == 1

    harness.run(team_for(session=False), deliver=flaky)            # as with --force-cancel
    stored = harness.state.load()
    rest = harness.plan(team_for(session=False))
    assert len(rest.mails) == 5
    # The occurrence whose cancellation began is finishing; the other one has not begun.
    found = mass_cancellation(rest, stored)
    assert found is not None and found.cancels == 3 and found.series[0].occurrences == 1
    # Once one mail of the other occurrence went out too, all that is left is finishing.
    begun = next(m for m in rest.mails if m.group != attempted[0].group)
    harness.state.record(begun, "20261124T120000Z")
    left = harness.plan(team_for(session=False))
    assert len(left.mails) == 4 and mass_cancellation(left, harness.state.load()) is None


def test_a_dry_run_without_mail_settings_uses_a_placeholder_organizer():
    team = replace(team_for("all"), mail=None)
    assert missing_for_sending(team_for("all")) is None
    assert "no 'mail:' section" in missing_for_sending(team)
    shown = replace(team, mail=placeholder_settings(team))
    assert shown.mail.organizer_email == PLACEHOLDER_ORGANIZER and shown.mail.organizer_name == "Netwerkteam"
    assert shown.mail.kinds == ("session", "aftercare", "meeting")     # the default of mail.invite
    mails = plan_mails(plan(shown, TODAY).events, shown, {}, TODAY).mails
    assert len(mails) == 6 and {m.method for m in mails} == {REQUEST}
    assert plan_mails(plan(team, TODAY).events, team, {}, TODAY).mails == []
