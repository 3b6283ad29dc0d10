"""Which appointments keep a person busy (kalender_sync.core.busy), worked out by hand.

The calendars imitate what servers, Outlook and Google publish (tests/busyfixtures.py holds
the shared ones; the small ones here isolate one rule each). All expected times are UTC,
converted by hand from the local times in the text: Europe/Amsterdam is UTC+2 until Sunday
31 October 2027 03:00 and UTC+1 after it.
"""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import busyfixtures as fx
import icalendar
import pytest
from hypothesis import given, settings, strategies as st

from helpers import make_team
from kalender_sync.core.busy import BusySnapshot, BusyTime, SourceText, busy_times, snapshot_from
from kalender_sync.core.errors import BusySourceError, KalenderSyncError

UTC = timezone.utc
ZONE = fx.ZONE


def utc(month: int, day: int, hour: int, minute: int = 0, year: int = 2027) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def calendar(*lines: str, head: tuple[str, ...] = ()) -> bytes:
    """A VCALENDAR around the given lines (written out: it imitates other software's output)."""
    return ("\r\n".join(("BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//example//test//EN", *head, *lines,
                         "END:VCALENDAR")) + "\r\n").encode()


def event(uid: str, summary: str, *lines: str) -> tuple[str, ...]:
    return ("BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20270915T000000Z", f"SUMMARY:{summary}", *lines, "END:VEVENT")


def read(*texts: bytes, email: str | None = "hanna@example.nl", own_uids=frozenset(), kind="events",
         start=fx.START, end=fx.END, zone=ZONE, source="werk") -> list[BusyTime]:
    return busy_times(SourceText("hanna", source, kind, tuple(texts)), email=email, own_uids=own_uids,
                      start=start, end=end, zone=zone)


def spans(times: list[BusyTime]) -> list[tuple]:
    return [(t.start, t.end, t.what, t.tentative) for t in times]


# --------------------------------------------------------------------- the shared calendars

@pytest.mark.parametrize("name", sorted(fx.EXPECTED))
def test_each_shared_calendar_gives_the_busy_times_worked_out_by_hand(name):
    got = busy_times(fx.source_text(name, "bron"), email=fx.EMAILS[fx.PERSON[name]], own_uids=fx.OWN_UIDS,
                     start=fx.START, end=fx.END, zone=ZONE)
    assert got == fx.expected(name, "bron")
    assert all(t.start.tzinfo is UTC and t.end.tzinfo is UTC for t in got)


def test_the_shared_fixtures_are_importable_and_consistent():
    assert set(fx.EXPECTED) == set(fx.PERSON)
    for name in fx.EXPECTED:
        assert fx.texts(name) and all(text.endswith(b"END:VCALENDAR\r\n") for text in fx.texts(name))
        assert list(fx.EXPECTED[name]) == sorted(fx.EXPECTED[name])


# ------------------------------------------------------------------------------ recurrences

def test_weekly_meeting_skips_its_exdate_and_follows_moved_and_cancelled_occurrences():
    got = read(fx.TEAMOVERLEG)
    assert spans(got) == [
        (utc(10, 7, 12), utc(10, 7, 13), "Teamoverleg", False),
        # 14 Oct: EXDATE
        (utc(10, 21, 12), utc(10, 21, 13), "Teamoverleg", False),
        (utc(10, 28, 12), utc(10, 28, 13), "Teamoverleg", False),
        (utc(11, 5, 9), utc(11, 5, 10), "Teamoverleg", False),      # Thu 4 Nov moved to Fri 5 Nov 10:00 CET
        (utc(11, 11, 13), utc(11, 11, 14), "Teamoverleg", False),   # still 14:00 local after summer time
        # 18 Nov moved out of the window (2 Dec), 25 Nov cancelled
        (utc(11, 30, 8), utc(11, 30, 9), "Teamoverleg", False),     # 9 Dec moved in, to Tue 30 Nov 09:00
    ]


def test_the_occurrence_moved_out_of_the_window_is_found_where_it_went():
    got = read(fx.TEAMOVERLEG, start=datetime(2027, 12, 1, tzinfo=ZONE), end=datetime(2027, 12, 17, tzinfo=ZONE))
    assert spans(got) == [
        (utc(12, 2, 13), utc(12, 2, 14), "Teamoverleg", False),     # 18 Nov's, moved here
        # 2 Dec's own occurrence is there too (the series runs on), 9 Dec's moved away
        (utc(12, 2, 13), utc(12, 2, 14), "Teamoverleg", False),
        (utc(12, 16, 13), utc(12, 16, 14), "Teamoverleg", False),   # UNTIL 13:00Z is inclusive
    ]


def test_rdate_adds_and_exdate_in_utc_removes_an_occurrence():
    text = calendar(*event("r@x", "Spreekuur",
                           "DTSTART;TZID=Europe/Amsterdam:20271004T090000",
                           "DTEND;TZID=Europe/Amsterdam:20271004T100000",
                           "RRULE:FREQ=DAILY;COUNT=3",
                           "RDATE;TZID=Europe/Amsterdam:20271010T150000",
                           "EXDATE:20271005T070000Z"))                 # 5 Oct 09:00 CEST, given in UTC
    assert spans(read(text)) == [
        (utc(10, 4, 7), utc(10, 4, 8), "Spreekuur", False),
        (utc(10, 6, 7), utc(10, 6, 8), "Spreekuur", False),
        (utc(10, 10, 13), utc(10, 10, 14), "Spreekuur", False),
    ]


def test_events_without_uid_are_each_their_own_appointment():
    text = calendar(*("BEGIN:VEVENT", "SUMMARY:Een", "DTSTART:20271004T080000Z", "DTEND:20271004T090000Z",
                      "END:VEVENT"),
                    *("BEGIN:VEVENT", "SUMMARY:Twee", "DTSTART:20271005T080000Z", "DTEND:20271005T090000Z",
                      "END:VEVENT"))
    assert [t.what for t in read(text)] == ["Een", "Twee"]


def test_a_series_split_over_two_objects_still_applies_its_override():
    components = icalendar.Calendar.from_ical(fx.TEAMOVERLEG).walk("VEVENT")
    first = icalendar.Calendar()
    first.add_component(components[0])
    second = icalendar.Calendar()
    for component in components[1:]:
        second.add_component(component)
    assert read(first.to_ical(), second.to_ical()) == read(fx.TEAMOVERLEG)


# ------------------------------------------------------------------------------- the rules

@pytest.mark.parametrize("lines, busy, tentative", [
    ((), True, False),
    (("TRANSP:OPAQUE",), True, False),
    (("TRANSP:TRANSPARENT",), False, False),
    (("STATUS:CONFIRMED",), True, False),
    (("STATUS:CANCELLED",), False, False),
    (("STATUS:TENTATIVE",), True, True),
    (("STATUS:TENTATIVE", "TRANSP:TRANSPARENT"), False, False),
    (("STATUS:CANCELLED", "X-MICROSOFT-CDO-BUSYSTATUS:BUSY"), False, False),
    # Outlook's "Show as" decides before TRANSP
    (("X-MICROSOFT-CDO-BUSYSTATUS:FREE", "TRANSP:OPAQUE"), False, False),
    (("X-MICROSOFT-CDO-BUSYSTATUS:WORKINGELSEWHERE", "TRANSP:OPAQUE"), False, False),
    (("X-MICROSOFT-CDO-BUSYSTATUS:BUSY", "TRANSP:TRANSPARENT"), True, False),
    (("X-MICROSOFT-CDO-BUSYSTATUS:OOF", "TRANSP:TRANSPARENT"), True, False),
    (("X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE",), True, True),
    (("X-MICROSOFT-CDO-BUSYSTATUS:tentative",), True, True),
    (("X-MICROSOFT-CDO-BUSYSTATUS:OUTOFOFFICE",), True, False),
    # a status we do not know: TRANSP decides
    (("X-MICROSOFT-CDO-BUSYSTATUS:SOMETHING", "TRANSP:TRANSPARENT"), False, False),
    (("X-MICROSOFT-CDO-BUSYSTATUS:SOMETHING",), True, False),
    # the person's own answer
    (("ATTENDEE;PARTSTAT=DECLINED:mailto:hanna@example.nl",), False, False),
    (("ATTENDEE;PARTSTAT=TENTATIVE:mailto:hanna@example.nl",), True, True),
    (("ATTENDEE;PARTSTAT=ACCEPTED:mailto:hanna@example.nl",), True, False),
    (("ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:hanna@example.nl",), True, False),
    (("ATTENDEE:mailto:hanna@example.nl",), True, False),
    (("ATTENDEE;PARTSTAT=DECLINED:mailto:someone.else@example.nl",), True, False),
    (("ATTENDEE;PARTSTAT=DECLINED:MAILTO:Hanna@Example.NL",), False, False),
    (("ATTENDEE;PARTSTAT=DECLINED:hanna@example.nl",), False, False),
    (('ATTENDEE;PARTSTAT=DECLINED;EMAIL="hanna@example.nl":urn:uuid:5a4c-hanna',), False, False),
    (("ATTENDEE;PARTSTAT=DECLINED:mailto:hanna@example.nl", "X-MICROSOFT-CDO-BUSYSTATUS:BUSY"), False, False),
])
def test_what_is_busy(lines, busy, tentative):
    text = calendar(*event("e@x", "Afspraak", "DTSTART:20271004T080000Z", "DTEND:20271004T090000Z", *lines))
    expected = [(utc(10, 4, 8), utc(10, 4, 9), "Afspraak", tentative)] if busy else []
    assert spans(read(text)) == expected


def test_declined_by_one_attendee_is_busy_for_the_one_who_accepted():
    assert read(fx.STUURGROEP, email="hanna@example.nl") == []
    accepted = read(fx.STUURGROEP, email="Bram@Example.nl")
    assert spans(accepted) == [(utc(11, 25, 13), utc(11, 25, 14, 30), "Stuurgroep", False)]
    # not an attendee, or no address known: it is in their calendar, so busy
    assert spans(read(fx.STUURGROEP, email="kim@example.nl")) == spans(accepted)
    assert spans(read(fx.STUURGROEP, email=None)) == spans(accepted)


def test_all_day_events_follow_the_same_rules_in_the_team_zone():
    text = calendar(
        *event("oof@x", "Vakantie", "DTSTART;VALUE=DATE:20271108", "DTEND;VALUE=DATE:20271113",
               "X-MICROSOFT-CDO-BUSYSTATUS:OOF", "TRANSP:OPAQUE"),
        *event("free@x", "Dag van de Duurzaamheid", "DTSTART;VALUE=DATE:20271013", "DTEND;VALUE=DATE:20271014",
               "X-MICROSOFT-CDO-BUSYSTATUS:FREE", "TRANSP:TRANSPARENT"),
        *event("google@x", "Verjaardag", "DTSTART;VALUE=DATE:20271012", "DTEND;VALUE=DATE:20271013",
               "TRANSP:TRANSPARENT"),
        # no DTEND: one day (RFC 5545 §3.6.1); this one straddles summer time's end
        *event("day@x", "Verhuizen", "DTSTART;VALUE=DATE:20271030"),
        *event("span@x", "Weekend weg", "DTSTART;VALUE=DATE:20271030", "DTEND;VALUE=DATE:20271101"),
    )
    assert spans(read(text)) == [
        (utc(10, 29, 22), utc(10, 30, 22), "Verhuizen", False),
        (utc(10, 29, 22), utc(10, 31, 23), "Weekend weg", False),    # 49 hours: the night of 31 Oct is long
        (utc(11, 7, 23), utc(11, 12, 23), "Vakantie", False),
    ]
    # Another team zone, another day.
    tokyo = read(text, zone=ZoneInfo("Asia/Tokyo"), start=datetime(2027, 11, 8, tzinfo=ZoneInfo("Asia/Tokyo")),
                 end=datetime(2027, 11, 9, tzinfo=ZoneInfo("Asia/Tokyo")))
    assert spans(tokyo) == [(utc(11, 7, 15), utc(11, 8, 15), "Vakantie", False)]


def test_an_event_over_several_days_across_the_change_of_summer_time_is_exact():
    text = calendar(*event("c@x", "Congres", "DTSTART;TZID=Europe/Amsterdam:20271029T090000",
                           "DTEND;TZID=Europe/Amsterdam:20271101T170000"))
    [busy] = read(text)
    assert (busy.start, busy.end) == (utc(10, 29, 7), utc(11, 1, 16))
    assert busy.end - busy.start == timedelta(days=3, hours=9)     # the wall clock says 3 days 8 hours


def test_our_own_events_are_never_busy():
    mine = calendar(
        *event("ours-1@kalender-sync", "Bel-uurtje", "DTSTART:20271004T120000Z", "DTEND:20271004T130000Z",
               "X-KALENDER-SYNC-KEY:session/bel-uurtje/2027-4"),
        # an override a client wrote without our marker still belongs to our series
        *event("ours-1@kalender-sync", "Bel-uurtje", "RECURRENCE-ID:20271004T120000Z",
               "DTSTART:20271004T140000Z", "DTEND:20271004T150000Z"),
        *event("accepted@kalender-sync", "Nazorg", "DTSTART:20271005T120000Z", "DTEND:20271005T130000Z"),
        *event("theirs@x", "Eigen afspraak", "DTSTART:20271006T120000Z", "DTEND:20271006T130000Z"),
    )
    assert [t.what for t in read(mine, own_uids=frozenset({"accepted@kalender-sync"}))] == ["Eigen afspraak"]
    assert [t.what for t in read(mine)] == ["Nazorg", "Eigen afspraak"]


def test_events_without_a_time_or_without_length_block_nothing():
    text = calendar(*("BEGIN:VEVENT", "UID:no-start@x", "SUMMARY:Geen tijd", "END:VEVENT"),
                    *event("point@x", "Moment", "DTSTART:20271004T080000Z"),
                    *event("zero@x", "Nul", "DTSTART:20271004T080000Z", "DTEND:20271004T080000Z"),
                    *event("other@x", "Taak", "DTSTART:20271004T080000Z", "DURATION:PT15M"))
    assert spans(read(text)) == [(utc(10, 4, 8), utc(10, 4, 8, 15), "Taak", False)]


def test_todos_and_journals_are_not_appointments():
    text = calendar("BEGIN:VTODO", "UID:t@x", "DTSTAMP:20270915T000000Z", "SUMMARY:Taak",
                    "DTSTART:20271004T080000Z", "DUE:20271004T090000Z", "END:VTODO")
    assert read(text) == []


def test_titles_are_one_line_and_the_source_is_carried():
    text = calendar(*event("t@x", "  Overleg\\n  met   klant ", "DTSTART:20271004T080000Z",
                           "DTEND:20271004T090000Z"))
    [busy] = read(text, source="outlook")
    assert (busy.what, busy.source) == ("Overleg met klant", "outlook")
    [untitled] = read(calendar("BEGIN:VEVENT", "UID:u@x", "DTSTART:20271004T080000Z", "DTEND:20271004T090000Z",
                               "END:VEVENT"))
    assert untitled.what == ""


def test_everything_is_clipped_to_the_window_and_sorted():
    text = calendar(*event("late@x", "Laat", "DTSTART:20271130T220000Z", "DTEND:20271201T010000Z"),
                    *event("early@x", "Vroeg", "DTSTART:20270930T200000Z", "DTEND:20270930T230000Z"),
                    *event("before@x", "Ervoor", "DTSTART:20270930T200000Z", "DTEND:20270930T220000Z"),
                    *event("after@x", "Erna", "DTSTART:20271130T230000Z", "DTEND:20271201T000000Z"))
    assert spans(read(text)) == [(utc(9, 30, 22), utc(9, 30, 23), "Vroeg", False),
                                 (utc(11, 30, 22), utc(11, 30, 23), "Laat", False)]
    assert read(text, start=fx.END, end=fx.START) == []


# ------------------------------------------------------------------------------ time zones

OUTLOOK_ZONE = fx.WINDOWS_VTIMEZONE


def custom_zone(tzid: str, standard: str, daylight: str) -> tuple[str, ...]:
    """A VTIMEZONE under a name no database knows, as Outlook writes for an edited zone."""
    return ("BEGIN:VTIMEZONE", f"TZID:{tzid}",
            "BEGIN:STANDARD", "DTSTART:16010101T030000", f"TZOFFSETFROM:{daylight}", f"TZOFFSETTO:{standard}",
            "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11", "END:STANDARD",
            "BEGIN:DAYLIGHT", "DTSTART:16010101T020000", f"TZOFFSETFROM:{standard}", f"TZOFFSETTO:{daylight}",
            "RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3", "END:DAYLIGHT", "END:VTIMEZONE")


def zoned(tzid: str, *zone_lines: str, local: str = "20271004T100000", uid: str = "z@x") -> bytes:
    return calendar(*zone_lines, *event(uid, "Afspraak", f"DTSTART;TZID={tzid}:{local}",
                                        f"DTEND;TZID={tzid}:{local[:9]}{int(local[9:11]) + 1:02d}{local[11:]}"))


@pytest.mark.parametrize("text", [
    zoned("W. Europe Standard Time", *OUTLOOK_ZONE),
    zoned("W. Europe Standard Time"),                     # Outlook without its VTIMEZONE
    zoned('"W. Europe Standard Time"'),
    zoned("Romance Standard Time"),                       # Paris/Brussels: the same offsets
    zoned("Europe/Amsterdam"),
    zoned("/freeassociation.sourceforge.net/Tzfile/Europe/Amsterdam"),
])
@pytest.mark.filterwarnings("ignore::UserWarning")     # icalendar says it guessed the globally unique one
def test_windows_and_other_zone_names_mean_their_iana_zone(text):
    assert spans(read(text)) == [(utc(10, 4, 8), utc(10, 4, 9), "Afspraak", False)]


def test_a_windows_name_follows_the_iana_zone_whatever_its_vtimezone_says():
    # A stale VTIMEZONE (summer time in April) under a Windows name: the IANA zone knows better.
    stale = ("BEGIN:VTIMEZONE", "TZID:W. Europe Standard Time",
             "BEGIN:STANDARD", "DTSTART:16010101T030000", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100",
             "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=10", "END:STANDARD",
             "BEGIN:DAYLIGHT", "DTSTART:16010101T020000", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200",
             "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4", "END:DAYLIGHT", "END:VTIMEZONE")
    assert spans(read(zoned("W. Europe Standard Time", *stale, local="20271020T100000"))) == [
        (utc(10, 20, 8), utc(10, 20, 9), "Afspraak", False)]


def test_each_calendar_keeps_its_own_definition_of_a_custom_zone_name():
    # icalendar keeps the first VTIMEZONE it parses under an unknown name for the whole process;
    # two people's "Customized Time Zone"s must not share it.
    eastern = zoned("Customized Time Zone", *custom_zone("Customized Time Zone", "-0500", "-0400"))
    central_europe = zoned("Customized Time Zone", *custom_zone("Customized Time Zone", "+0100", "+0200"),
                           uid="z2@x")
    for _ in range(2):
        assert spans(read(eastern)) == [(utc(10, 4, 14), utc(10, 4, 15), "Afspraak", False)]
        assert spans(read(central_europe)) == [(utc(10, 4, 8), utc(10, 4, 9), "Afspraak", False)]
    # and in one reading of two texts
    assert spans(read(eastern, central_europe)) == [(utc(10, 4, 8), utc(10, 4, 9), "Afspraak", False),
                                                    (utc(10, 4, 14), utc(10, 4, 15), "Afspraak", False)]


def test_floating_times_are_in_the_team_zone_or_the_feeds_declared_zone():
    text = calendar(*event("f@x", "Tandarts", "DTSTART:20271102T083000", "DTEND:20271102T091500"))
    assert spans(read(text)) == [(utc(11, 2, 7, 30), utc(11, 2, 8, 15), "Tandarts", False)]
    london = ZoneInfo("Europe/London")
    assert spans(read(text, zone=london)) == [(utc(11, 2, 8, 30), utc(11, 2, 9, 15), "Tandarts", False)]
    declared = calendar(*event("f@x", "Tandarts", "DTSTART:20271102T083000", "DTEND:20271102T091500"),
                        head=("X-WR-TIMEZONE:Europe/London",))
    assert spans(read(declared)) == [(utc(11, 2, 8, 30), utc(11, 2, 9, 15), "Tandarts", False)]


def test_a_tzid_nobody_defines_is_read_in_the_team_zone():
    assert spans(read(zoned("Nergens Standaardtijd"))) == [(utc(10, 4, 8), utc(10, 4, 9), "Afspraak", False)]


def test_a_weekly_series_in_a_windows_zone_keeps_its_local_time_over_the_change():
    text = calendar(*OUTLOOK_ZONE, *event("w@x", "Overleg",
                                          "DTSTART;TZID=W. Europe Standard Time:20271026T090000",
                                          "DTEND;TZID=W. Europe Standard Time:20271026T100000",
                                          "RRULE:FREQ=WEEKLY;COUNT=2"))
    assert spans(read(text)) == [(utc(10, 26, 7), utc(10, 26, 8), "Overleg", False),
                                 (utc(11, 2, 8), utc(11, 2, 9), "Overleg", False)]


# ---------------------------------------------------------------------------- free/busy replies

def reply(*lines: str) -> bytes:
    return calendar("BEGIN:VFREEBUSY", "DTSTAMP:20270920T080000Z", "DTSTART:20270930T220000Z",
                    "DTEND:20271130T230000Z", *lines, "END:VFREEBUSY")


def test_free_busy_periods_in_every_form_and_type():
    text = reply(
        # RFC 5545 §3.8.2.6's own shapes: several periods on one line, start/end and start/duration
        "FREEBUSY;FBTYPE=BUSY:20271004T080000Z/20271004T090000Z,20271004T100000Z/PT30M",
        "FREEBUSY:20271005T080000Z/20271005T090000Z",                       # no FBTYPE: BUSY
        "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20271006T080000Z/PT1H",
        "FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20271007T060000Z/20271007T070000Z",
        "FREEBUSY;FBTYPE=FREE:20271008T080000Z/20271008T090000Z",
        "FREEBUSY;FBTYPE=X-OFFSITE:20271009T080000Z/20271009T090000Z",      # unknown types count as BUSY
        "FREEBUSY:20271010T080000Z/PT0S",                                    # nothing
        "FREEBUSY:20270930T200000Z/20270930T230000Z",                        # straddles the start
    )
    assert spans(read(text, kind="freebusy")) == [
        (utc(9, 30, 22), utc(9, 30, 23), "", False),
        (utc(10, 4, 8), utc(10, 4, 9), "", False),
        (utc(10, 4, 10), utc(10, 4, 10, 30), "", False),
        (utc(10, 5, 8), utc(10, 5, 9), "", False),
        (utc(10, 6, 8), utc(10, 6, 9), "", True),
        (utc(10, 7, 6), utc(10, 7, 7), "", False),
        (utc(10, 9, 8), utc(10, 9, 9), "", False),
    ]


def test_the_servers_replies_are_read_unmerged():
    xandikos = read(fx.BRAM_XANDIKOS_REPLY, kind="freebusy", source="netwerk")
    # two overlapping appointments on 7 October stay two
    assert [(t.start, t.end) for t in xandikos if t.start.date() == date(2027, 10, 7)] == [
        (utc(10, 7, 11, 30), utc(10, 7, 12, 30)), (utc(10, 7, 12), utc(10, 7, 13, 30))]
    radicale = read(fx.BRAM_RADICALE_REPLY, kind="freebusy", source="netwerk")
    assert utc(10, 21, 7) not in [t.start for t in radicale]             # FBTYPE=FREE: the cancelled Heidag
    assert {t.source for t in xandikos + radicale} == {"netwerk"}


def test_the_fbtype_of_an_old_radicale_reply_is_on_the_component():
    old = calendar("BEGIN:VFREEBUSY", "FBTYPE:BUSY-TENTATIVE", "FREEBUSY:20271004T080000Z/20271004T090000Z",
                   "END:VFREEBUSY",
                   "BEGIN:VFREEBUSY", "FBTYPE:FREE", "FREEBUSY:20271005T080000Z/20271005T090000Z", "END:VFREEBUSY")
    assert spans(read(old, kind="freebusy")) == [(utc(10, 4, 8), utc(10, 4, 9), "", True)]


def test_a_calendar_may_hold_both_appointments_and_free_busy():
    text = calendar(*event("e@x", "Afspraak", "DTSTART:20271004T080000Z", "DTEND:20271004T090000Z"),
                    "BEGIN:VFREEBUSY", "FREEBUSY:20271005T080000Z/20271005T090000Z", "END:VFREEBUSY")
    assert spans(read(text)) == spans(read(text, kind="freebusy")) == [
        (utc(10, 4, 8), utc(10, 4, 9), "Afspraak", False), (utc(10, 5, 8), utc(10, 5, 9), "", False)]


# ---------------------------------------------------------------------------------- garbage

@pytest.mark.parametrize("text, reason", [
    (b"", "empty"),
    (b"  \r\n", "empty"),
    (b"<!DOCTYPE html><html><head><title>Sign in to your account</title></head>" + b"x" * 100_000,
     "not iCalendar: it begins '<!DOCTYPE html><html><head><title>Sign i…'"),
    (b'{"error": "unauthorized"}', "not iCalendar: it begins '{\"error\": \"unauthorized\"}'"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data"),
    (b"\xff\xfeB\x00E\x00G\x00", "binary data"),
    (b"BEGIN:VCALENDAR\r\nthis is not a content line\r\nEND:VCALENDAR\r\n", "not valid iCalendar"),
    (calendar(*event("b@x", "Kapot", "DTSTART:gisteren")), "event 'b@x'"),
    (calendar(*event("r@x", "Regel", "DTSTART:20271004T080000Z", "RRULE:FREQ=SOMETIMES")), "event 'r@x'"),
    (calendar(*event("x" * 300, "Lang", "DTSTART:garbage")), "event '" + "x" * 39 + "…'"),
    (reply("FREEBUSY:20271004T080000Z/later"), "not valid iCalendar"),
])
def test_garbage_is_a_short_reason_not_a_traceback(text, reason):
    with pytest.raises(BusySourceError) as caught:
        read(fx.HANNA_WERK[0], text)
    assert reason in str(caught.value)
    assert len(str(caught.value)) < 160
    assert isinstance(caught.value, KalenderSyncError)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(lambda t: ("BEGIN:VCALENDAR\r\n" + t).encode()))
def test_no_input_crashes_with_anything_but_a_busy_source_error(data):
    try:
        got = read(data)
    except BusySourceError as error:
        assert len(str(error)) < 200
    else:
        assert all(fx.START <= t.start < t.end <= fx.END for t in got)


# ------------------------------------------------------------------------------- properties

_BASE = datetime(2027, 10, 1, tzinfo=ZONE)


@st.composite
def appointments(draw):
    """(start, end, transparent, cancelled) of single timed events around the default window."""
    start = _BASE + timedelta(minutes=draw(st.integers(-3 * 24 * 60, 65 * 24 * 60)))
    length = timedelta(minutes=draw(st.integers(0, 5 * 24 * 60)))
    return start, start + length, draw(st.booleans()), draw(st.booleans())


@settings(max_examples=60, deadline=None)
@given(st.lists(appointments(), max_size=8), st.integers(0, 60 * 24), st.integers(1, 70 * 24))
def test_single_events_come_out_clipped_exactly_as_a_plain_model_says(items, offset_hours, hours):
    start = _BASE + timedelta(hours=offset_hours - 24)
    end = start + timedelta(hours=hours)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//test//")
    cal.add("version", "2.0")
    model = []
    for number, (begin, until, transparent, cancelled) in enumerate(items):
        component = icalendar.Event()
        component.add("uid", f"e{number}@x")
        component.add("summary", f"e{number}")
        component.add("dtstart", begin)
        component.add("dtend", until)
        if transparent:
            component.add("transp", "TRANSPARENT")
        if cancelled:
            component.add("status", "CANCELLED")
        cal.add_component(component)
        low, high = max(begin, start), min(until, end)
        if not transparent and not cancelled and low < high:
            model.append((low.astimezone(UTC), high.astimezone(UTC), f"e{number}", False))
    got = read(cal.to_ical(), start=start, end=end)
    assert spans(got) == sorted(model)
    assert all(start <= t.start < t.end <= end for t in got)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 364), st.integers(0, 23), st.sampled_from([0, 15, 30]), st.integers(1, 12),
       st.sampled_from(["DAILY", "WEEKLY"]))
def test_recurring_occurrences_keep_their_local_time_through_every_change(day, hour, minute, count, freq):
    first = datetime(2027, 1, 1, hour, minute, tzinfo=ZONE) + timedelta(days=day)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//test//")
    cal.add("version", "2.0")
    component = icalendar.Event()
    component.add("uid", "r@x")
    component.add("dtstart", first)
    component.add("dtend", first + timedelta(minutes=45))
    component.add("rrule", {"freq": freq, "count": count})
    cal.add_component(component)
    got = read(cal.to_ical(), start=datetime(2026, 12, 1, tzinfo=ZONE), end=datetime(2028, 6, 1, tzinfo=ZONE))
    step = timedelta(days=1 if freq == "DAILY" else 7)
    wall = [(first + step * n).replace(tzinfo=None) for n in range(count)]
    # A wall time in the spring gap does not exist; zoneinfo (and RFC 5545 §3.3.5) read it with
    # the offset before the gap, so compare instants made the same way.
    assert [t.start for t in got] == [w.replace(tzinfo=ZONE).astimezone(UTC) for w in wall]


_names = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_moments = st.integers(0, 10**6).map(lambda m: datetime(2027, 10, 1, tzinfo=UTC) + timedelta(seconds=m * 37))


@st.composite
def busy_items(draw):
    start = draw(_moments)
    end = start + timedelta(seconds=draw(st.integers(1, 10**6)), microseconds=draw(st.sampled_from([0, 500])))
    return BusyTime(start, end, draw(_names), draw(st.booleans()), draw(_names))


@st.composite
def snapshots(draw):
    busy = draw(st.dictionaries(_names, st.lists(busy_items(), max_size=4).map(tuple), max_size=4))
    unreadable = draw(st.dictionaries(_names, _names, max_size=3))
    zone = draw(st.sampled_from([UTC, ZONE, ZoneInfo("America/New_York")]))
    start = draw(_moments).astimezone(zone)
    return BusySnapshot(draw(st.dates(date(2020, 1, 1), date(2035, 1, 1))), start, start + timedelta(days=90),
                        busy, unreadable)


@settings(max_examples=120, deadline=None)
@given(snapshots())
def test_a_snapshot_survives_json_unchanged_and_byte_stable(snapshot):
    data = snapshot.to_json()
    again = BusySnapshot.from_json(data)
    assert again == snapshot
    assert again.to_json() == data
    reordered = BusySnapshot(snapshot.today, snapshot.start, snapshot.end,
                             dict(reversed([(p, tuple(reversed(t))) for p, t in snapshot.busy.items()])),
                             dict(reversed(list(snapshot.unreadable.items()))))
    assert reordered.to_json() == data


def test_the_snapshot_json_is_plain_and_readable():
    snapshot = BusySnapshot(date(2027, 9, 20), fx.START, fx.END,
                            {"hanna": (BusyTime(utc(10, 7, 12), utc(10, 7, 13), "Teamoverleg", False, "werk"),)},
                            {"kim": "outlook (https://outlook.example/…): 404 Not Found"})
    assert json.loads(snapshot.to_json()) == {
        "version": 1, "today": "2027-09-20", "start": "2027-09-30T22:00:00Z", "end": "2027-11-30T23:00:00Z",
        "busy": {"hanna": [{"start": "2027-10-07T12:00:00Z", "end": "2027-10-07T13:00:00Z", "what": "Teamoverleg",
                            "tentative": False, "source": "werk"}]},
        "unreadable": {"kim": "outlook (https://outlook.example/…): 404 Not Found"}}
    assert snapshot.to_json().endswith(b"}\n")


@pytest.mark.parametrize("data", [
    b"", b"not json", b"[]", b'{"version": 2}', b'{"version": 1}',
    b'{"version":1,"today":"2027-09-20","start":"2027-09-30T22:00:00Z","end":"2027-11-30T23:00:00Z",'
    b'"busy":{"a":[{"start":"2027-10-07T13:00:00Z","end":"2027-10-07T12:00:00Z","what":"","tentative":false,'
    b'"source":""}]},"unreadable":{}}',
    b'{"version":1,"today":"2027-09-20","start":"2027-09-30T22:00:00","end":"2027-11-30T23:00:00Z",'
    b'"busy":{},"unreadable":{}}',
    b'{"version":1,"today":"2027-09-20","start":"2027-09-30T22:00:00Z","end":"2027-11-30T23:00:00Z",'
    b'"busy":{"a":[{"start":"2027-10-07T12:00:00Z","end":"2027-10-07T13:00:00Z","what":"","tentative":"no",'
    b'"source":""}]},"unreadable":{}}',
    b"\xff\xfe",
])
def test_a_damaged_snapshot_is_a_short_reason(data):
    with pytest.raises(BusySourceError) as caught:
        BusySnapshot.from_json(data)
    assert "snapshot" in str(caught.value) and len(str(caught.value)) < 200


# --------------------------------------------------------------------------- snapshot_from

def busy_team():
    team = make_team()
    people = dict(team.people)
    people["maarten"] = replace(people["maarten"], email="Maarten@Example.nl", busy=("werk", "outlook"))
    people["jw"] = replace(people["jw"], busy=("werk",))
    return replace(team, people=people)


def test_snapshot_from_gathers_every_source_per_person_and_names_what_could_not_be_read():
    team = busy_team()
    maarten_werk = calendar(
        *event("a@x", "Overleg", "DTSTART:20271004T080000Z", "DTEND:20271004T090000Z"),
        *event("d@x", "Afgezegd", "DTSTART:20271005T080000Z", "DTEND:20271005T090000Z",
               "ATTENDEE;PARTSTAT=DECLINED:mailto:maarten@example.nl"),
        *event("o@x", "Van ons", "DTSTART:20271006T080000Z", "DTEND:20271006T090000Z"))
    fetched = [SourceText("maarten", "outlook", "events", (fx.KIM_OUTLOOK,)),
               SourceText("maarten", "werk", "events", (maarten_werk,)),
               SourceText("jw", "werk", "events", (b"<html>login</html>",))]
    snapshot = snapshot_from(fetched, {}, team, date(2027, 9, 20), fx.START, fx.END, frozenset({"o@x"}))
    assert snapshot.today == date(2027, 9, 20)
    assert (snapshot.start, snapshot.end) == (utc(9, 30, 22), utc(11, 30, 23))
    expected = sorted(fx.expected("KIM_OUTLOOK", "outlook")
                      + [BusyTime(utc(10, 4, 8), utc(10, 4, 9), "Overleg", False, "werk")])
    assert snapshot.busy == {"maarten": tuple(expected)}
    assert snapshot.unreadable == {"jw": "werk: not iCalendar: it begins '<html>login</html>'"}


def test_snapshot_from_keeps_the_readers_reasons_and_flags_sources_never_read():
    team = busy_team()
    fetched = [SourceText("maarten", "werk", "events", ())]
    snapshot = snapshot_from(fetched, {"jw": "werk (https://dav.example.nl/jw/werk/): 401 Unauthorized"},
                             team, date(2027, 9, 20), fx.START, fx.END)
    assert snapshot.busy == {"maarten": ()}
    assert snapshot.unreadable == {"jw": "werk (https://dav.example.nl/jw/werk/): 401 Unauthorized",
                                   "maarten": "outlook: not read"}
    assert BusySnapshot.from_json(snapshot.to_json()) == snapshot


def test_a_rule_that_repeats_without_measure_is_unreadable_not_endless():
    text = calendar(*event("s@x", "Elke seconde", "DTSTART:20271004T080000Z", "DURATION:PT1S",
                           "RRULE:FREQ=SECONDLY"))
    with pytest.raises(BusySourceError, match="'s@x' repeats more than 10000 times"):
        read(text)
    # every quarter of an hour for two months is a lot, but within measure
    quarterly = calendar(*event("q@x", "Kwartier", "DTSTART:20271001T000000Z", "DURATION:PT5M",
                                "RRULE:FREQ=MINUTELY;INTERVAL=15"))
    # from Fri 1 Oct 00:00 UTC to the end of the window, Tue 30 Nov 23:00 UTC: 1463 hours
    assert len(read(quarterly)) == 1463 * 4
    # a fine-grained rule that its BY-lists narrow down to once a day is no trouble either
    daily = calendar(*event("d@x", "Om negen", "DTSTART:20271001T090000Z", "DURATION:PT5M",
                            "RRULE:FREQ=MINUTELY;BYHOUR=9;BYMINUTE=0"))
    assert len(read(daily)) == 61                       # 1 October to 30 November


def test_a_marked_event_without_uid_does_not_take_other_events_without_uid_along():
    text = calendar(*("BEGIN:VEVENT", "SUMMARY:Van ons", "X-KALENDER-SYNC-KEY:k", "DTSTART:20271004T080000Z",
                      "DTEND:20271004T090000Z", "END:VEVENT"),
                    *("BEGIN:VEVENT", "SUMMARY:Van hen", "DTSTART:20271005T080000Z", "DTEND:20271005T090000Z",
                      "END:VEVENT"))
    assert [t.what for t in read(text, own_uids=frozenset({""}))] == ["Van hen"]


@st.composite
def single_events(draw):
    """Lines of one VEVENT that happens once: timed or all-day, ending by DTEND, DURATION or not at all."""
    day = date(2027, 9, 28) + timedelta(days=draw(st.integers(0, 66)))
    if draw(st.booleans()):
        start = f"DTSTART;VALUE=DATE:{day:%Y%m%d}"
        ends = ["", f"DTEND;VALUE=DATE:{day + timedelta(days=draw(st.integers(1, 4))):%Y%m%d}",
                f"DURATION:P{draw(st.integers(1, 4))}D"]
    else:
        moment = datetime.combine(day, datetime.min.time()) + timedelta(minutes=15 * draw(st.integers(0, 95)))
        zone = draw(st.sampled_from(["TZID=Europe/Amsterdam:", "TZID=W. Europe Standard Time:", ":"]))
        start = f"DTSTART;{zone}{moment:%Y%m%dT%H%M%S}".replace(";:", ":")
        later = moment + timedelta(minutes=15 * draw(st.integers(0, 400)))
        ends = ["", f"DTEND;{zone}{later:%Y%m%dT%H%M%S}".replace(";:", ":"),
                f"DURATION:PT{15 * draw(st.integers(0, 400))}M"]
    status = draw(st.sampled_from([(), ("STATUS:TENTATIVE",), ("TRANSP:TRANSPARENT",),
                                   ("X-MICROSOFT-CDO-BUSYSTATUS:OOF",)]))
    return (start, *[line for line in [draw(st.sampled_from(ends))] if line], *status)


@settings(max_examples=80, deadline=None)
@given(single_events())
def test_an_event_that_happens_once_reads_as_the_expander_reads_it(lines):
    once = calendar(*event("o@x", "Eens", *lines))
    # The same event as a series of one goes through recurring-ical-events.
    series = calendar(*event("o@x", "Eens", *lines, "RRULE:FREQ=DAILY;COUNT=1"))
    assert read(once) == read(series)


def test_the_marker_read_is_the_marker_written():
    from kalender_sync.core import busy, fingerprint
    assert busy.OWN_MARKER == fingerprint.MARKER
