"""People's own calendars, as servers, Outlook and Google hand them out, with the busy times
worked out by hand: the shared input of the busy-time tests.

Unit tests feed these texts to `kalender_sync.core.busy.busy_times` directly; integration
tests upload the CalDAV objects to Radicale / Xandikos, or serve the published calendars
over loopback HTTP, and must read the same busy times back. Import it as `busyfixtures`
(tests/ is on sys.path, as for `helpers`).

The texts are written out as iCalendar on purpose: they imitate what other software
publishes (Outlook's Windows zone names and 1601 VTIMEZONEs, Google's UTC-only free/busy
feed, the servers' free-busy replies), which is exactly what our own writer would never
produce. Every text is CRLF-terminated as RFC 5545 wants.

The window is October and November 2027 in Europe/Amsterdam; summer time ends on Sunday
31 October 2027 (03:00 CEST -> 02:00 CET), so times before it are UTC+2 and after it UTC+1.
Every expected time below is in UTC, written out by hand from the local time in the text.

| name              | what                                                 | person | kind     |
|-------------------|------------------------------------------------------|--------|----------|
| HANNA_WERK        | CalDAV objects: weekly meeting with EXDATE and moved, | hanna  | events   |
|                   | moved-in, moved-out and cancelled occurrences; all-day|        |          |
|                   | holiday; transparent birthday and home-working;       |        |          |
|                   | tentative; cancelled; declined; multi-day over DST;   |        |          |
|                   | floating; two of our own events                       |        |          |
| BRAM_NETWERK      | CalDAV objects for the free-busy-query path: duration,| bram   | events   |
|                   | overlap, RRULE+EXDATE, all-day, declined, straddling  |        |          |
| KIM_OUTLOOK       | Outlook "publish calendar" (Windows TZID, CDO status) | kim    | events   |
| SANNE_GOOGLE      | Google free/busy-only feed ("Busy", UTC, no rules)    | sanne  | events   |
| BRAM_XANDIKOS_REPLY | Xandikos 0.4.10's free-busy-query answer on BRAM_NETWERK | bram | freebusy |
| BRAM_RADICALE_REPLY | Radicale 3.9's answer on BRAM_NETWERK                | bram   | freebusy |

EXPECTED holds, per name, the busy times `busy_times` must give for it over [START, END)
(source "" — use `expected(name, source)` for another source id). The two replies differ
from BRAM_NETWERK's own expectation where the servers read less than we do: neither
server reads the person's PARTSTAT (the declined "Golfdag" stays busy), and both read an
all-day event as 00:00-24:00 UTC (the "Cursus" is two hours late in local time).
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from kalender_sync.core.busy import BusyTime, SourceText

ZONE = ZoneInfo("Europe/Amsterdam")
TODAY = date(2027, 9, 20)
START = datetime(2027, 10, 1, tzinfo=ZONE)     # 2027-09-30 22:00 UTC
END = datetime(2027, 12, 1, tzinfo=ZONE)       # 2027-11-30 23:00 UTC

EMAILS = {
    "hanna": "hanna@example.nl",
    "bram": "bram@example.nl",
    "kim": "kim@example.nl",
    "sanne": "sanne@example.nl",
}
# UIDs of events we wrote; an invitation a person accepted keeps our UID but may lose our marker.
NAZORG_UID = "6f0c2a9e-0b7d-5e4f-9a21-6c8d0e4b7a15@kalender-sync"
OWN_UIDS = frozenset({NAZORG_UID})


def _ical(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _object(*event_lines: str) -> bytes:
    """One CalDAV calendar object the way Thunderbird stores it: its zone's VTIMEZONE, then the
    component(s) of one UID."""
    return _ical(
        "BEGIN:VCALENDAR",
        "PRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN",
        "VERSION:2.0",
        *AMSTERDAM_VTIMEZONE,
        *event_lines,
        "END:VCALENDAR",
    )


AMSTERDAM_VTIMEZONE = (
    "BEGIN:VTIMEZONE",
    "TZID:Europe/Amsterdam",
    "X-TZINFO:Europe/Amsterdam[2024a]",
    "BEGIN:STANDARD",
    "TZNAME:CET",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "DTSTART:19961027T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "BEGIN:DAYLIGHT",
    "TZNAME:CEST",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "DTSTART:19810329T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "END:VTIMEZONE",
)


def _event(uid: str, summary: str, *lines: str) -> tuple[str, ...]:
    return ("BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20270915T101500Z", f"SUMMARY:{summary}", *lines,
            "END:VEVENT")


# ----------------------------------------------------------------------------- hanna: CalDAV

# Thursdays 14:00-15:00. In the window: 7 Oct, (14 Oct: EXDATE), 21 Oct, 28 Oct, 4 Nov moved to
# Fri 5 Nov 10:00, 11 Nov, 18 Nov moved out of the window (to 2 Dec), 25 Nov cancelled; and
# 9 Dec moved into the window (Tue 30 Nov 09:00).
TEAMOVERLEG = _object(
    *_event("teamoverleg-2027@example.nl", "Teamoverleg",
            "DTSTART;TZID=Europe/Amsterdam:20270902T140000",
            "DTEND;TZID=Europe/Amsterdam:20270902T150000",
            "RRULE:FREQ=WEEKLY;UNTIL=20271216T130000Z;BYDAY=TH",
            "EXDATE;TZID=Europe/Amsterdam:20271014T140000",
            "SEQUENCE:2"),
    *_event("teamoverleg-2027@example.nl", "Teamoverleg",
            "RECURRENCE-ID;TZID=Europe/Amsterdam:20271104T140000",
            "DTSTART;TZID=Europe/Amsterdam:20271105T100000",
            "DTEND;TZID=Europe/Amsterdam:20271105T110000",
            "SEQUENCE:2"),
    *_event("teamoverleg-2027@example.nl", "Teamoverleg",
            "RECURRENCE-ID;TZID=Europe/Amsterdam:20271118T140000",
            "DTSTART;TZID=Europe/Amsterdam:20271202T140000",
            "DTEND;TZID=Europe/Amsterdam:20271202T150000",
            "SEQUENCE:2"),
    *_event("teamoverleg-2027@example.nl", "Teamoverleg",
            "RECURRENCE-ID;TZID=Europe/Amsterdam:20271209T140000",
            "DTSTART;TZID=Europe/Amsterdam:20271130T090000",
            "DTEND;TZID=Europe/Amsterdam:20271130T100000",
            "SEQUENCE:2"),
    *_event("teamoverleg-2027@example.nl", "Teamoverleg",
            "RECURRENCE-ID;TZID=Europe/Amsterdam:20271125T140000",
            "DTSTART;TZID=Europe/Amsterdam:20271125T140000",
            "DTEND;TZID=Europe/Amsterdam:20271125T150000",
            "STATUS:CANCELLED",
            "SEQUENCE:2"),
)
# Kim organises, hanna declined, bram accepted: free for hanna, busy for bram.
STUURGROEP = _object(
    *_event("stuurgroep-20271125@example.nl", "Stuurgroep",
            "DTSTART;TZID=Europe/Amsterdam:20271125T140000",
            "DTEND;TZID=Europe/Amsterdam:20271125T153000",
            "ORGANIZER;CN=Kim Jansen:mailto:kim@example.nl",
            "ATTENDEE;CN=Hanna de Wit;PARTSTAT=DECLINED;ROLE=REQ-PARTICIPANT:MAILTO:Hanna@Example.NL",
            "ATTENDEE;CN=Bram Visser;PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT:mailto:bram@example.nl"),
)
HANNA_WERK = (
    TEAMOVERLEG,
    _object(*_event("vakantie-hanna@example.nl", "Vakantie",
                    "DTSTART;VALUE=DATE:20271018", "DTEND;VALUE=DATE:20271021", "TRANSP:OPAQUE")),
    _object(*_event("verjaardag-bram@example.nl", "Verjaardag Bram",
                    "DTSTART;VALUE=DATE:20271012", "DTEND;VALUE=DATE:20271013", "TRANSP:TRANSPARENT")),
    _object(*_event("lunch-piet@example.nl", "Lunch met Piet",
                    "DTSTART;TZID=Europe/Amsterdam:20271026T120000",
                    "DTEND;TZID=Europe/Amsterdam:20271026T130000", "STATUS:TENTATIVE")),
    _object(*_event("thuiswerken-20271007@example.nl", "Thuiswerken",
                    "DTSTART;TZID=Europe/Amsterdam:20271007T090000",
                    "DTEND;TZID=Europe/Amsterdam:20271007T170000", "TRANSP:TRANSPARENT")),
    _object(*_event("klantbezoek-20271118@example.nl", "Klantbezoek",
                    "DTSTART;TZID=Europe/Amsterdam:20271118T130000",
                    "DTEND;TZID=Europe/Amsterdam:20271118T160000", "STATUS:CANCELLED")),
    STUURGROEP,
    # Friday 09:00 CEST to Monday 17:00 CET: three days and nine hours, not eight.
    _object(*_event("congres-2027@example.nl", "Congres Water & Bodem",
                    "DTSTART;TZID=Europe/Amsterdam:20271029T090000",
                    "DTEND;TZID=Europe/Amsterdam:20271101T170000")),
    # Floating: read in the team's zone (CET on 2 November).
    _object(*_event("tandarts@example.nl", "Tandarts",
                    "DTSTART:20271102T083000", "DTEND:20271102T091500")),
    # Ours, with our marker: never busy, even on the same calendar.
    _object(*_event("2b3c4d5e-6f70-5182-9a3b-4c5d6e7f8091@kalender-sync", "Bel-uurtje",
                    "DTSTART;TZID=Europe/Amsterdam:20271118T140000",
                    "DTEND;TZID=Europe/Amsterdam:20271118T150000",
                    "X-KALENDER-SYNC-KEY:session/bel-uurtje/2027-4",
                    "X-KALENDER-SYNC-KIND:session")),
    # Ours, accepted from an invitation: the client kept our UID but not our marker.
    _object(*_event(NAZORG_UID, "Nazorg ERP-migratie",
                    "DTSTART;TZID=Europe/Amsterdam:20271014T140000",
                    "DTEND;TZID=Europe/Amsterdam:20271014T150000",
                    "ORGANIZER;CN=Kalender Sync:mailto:agenda@example.nl",
                    "ATTENDEE;PARTSTAT=ACCEPTED:mailto:hanna@example.nl")),
)

# ----------------------------------------------------------------------------- bram: CalDAV

BRAM_NETWERK = (
    STUURGROEP,
    _object(*_event("netwerkborrel-20271111@example.nl", "Netwerkborrel",
                    "DTSTART;TZID=Europe/Amsterdam:20271111T140000",
                    "DTEND;TZID=Europe/Amsterdam:20271111T160000", "STATUS:TENTATIVE")),
    _object(*_event("klantoverleg-20271007@example.nl", "Klantoverleg",
                    "DTSTART;TZID=Europe/Amsterdam:20271007T140000", "DURATION:PT1H30M")),
    _object(*_event("interview-20271007@example.nl", "Interview",
                    "DTSTART;TZID=Europe/Amsterdam:20271007T133000",
                    "DTEND;TZID=Europe/Amsterdam:20271007T143000")),
    # Mondays 4, (11: EXDATE), 18 and 25 October: COUNT counts the excluded one too.
    _object(*_event("lunchwandeling@example.nl", "Lunchwandeling",
                    "DTSTART;TZID=Europe/Amsterdam:20271004T120000",
                    "DTEND;TZID=Europe/Amsterdam:20271004T130000",
                    "RRULE:FREQ=WEEKLY;COUNT=4",
                    "EXDATE;TZID=Europe/Amsterdam:20271011T120000")),
    _object(*_event("heidag-20271021@example.nl", "Heidag",
                    "DTSTART;TZID=Europe/Amsterdam:20271021T090000",
                    "DTEND;TZID=Europe/Amsterdam:20271021T170000", "STATUS:CANCELLED")),
    _object(*_event("thuiswerkdag-20271008@example.nl", "Thuiswerkdag",
                    "DTSTART;VALUE=DATE:20271008", "DTEND;VALUE=DATE:20271009", "TRANSP:TRANSPARENT")),
    _object(*_event("cursus-20271028@example.nl", "Cursus",
                    "DTSTART;VALUE=DATE:20271028", "DTEND;VALUE=DATE:20271029")),
    _object(*_event("golfdag-20271119@example.nl", "Golfdag",
                    "DTSTART;TZID=Europe/Amsterdam:20271119T100000",
                    "DTEND;TZID=Europe/Amsterdam:20271119T160000",
                    "ORGANIZER:mailto:relaties@example.com",
                    "ATTENDEE;PARTSTAT=DECLINED:mailto:bram@example.nl")),
    # Starts before the window: clipped to its start.
    _object(*_event("nachtdienst-20270930@example.nl", "Nachtdienst",
                    "DTSTART;TZID=Europe/Amsterdam:20270930T200000",
                    "DTEND;TZID=Europe/Amsterdam:20271001T060000")),
)

# --------------------------------------------------------------------------- kim: Outlook

WINDOWS_VTIMEZONE = (
    "BEGIN:VTIMEZONE",
    "TZID:W. Europe Standard Time",
    "BEGIN:STANDARD",
    "DTSTART:16010101T030000",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10",
    "END:STANDARD",
    "BEGIN:DAYLIGHT",
    "DTSTART:16010101T020000",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3",
    "END:DAYLIGHT",
    "END:VTIMEZONE",
)
_W = "TZID=W. Europe Standard Time"


def _outlook(uid: str, summary: str, status: str, transp: str, *lines: str) -> tuple[str, ...]:
    return ("BEGIN:VEVENT", "DESCRIPTION:\\n", *lines, f"UID:{uid}", f"SUMMARY;LANGUAGE=nl-NL:{summary}",
            "CLASS:PUBLIC", "PRIORITY:5", "DTSTAMP:20270915T101500Z", f"TRANSP:{transp}", "STATUS:CONFIRMED",
            "SEQUENCE:0", "LOCATION;LANGUAGE=nl-NL:", "X-MICROSOFT-CDO-APPT-SEQUENCE:0",
            f"X-MICROSOFT-CDO-BUSYSTATUS:{status}", f"X-MICROSOFT-CDO-INTENDEDSTATUS:{status}",
            "X-MICROSOFT-CDO-IMPORTANCE:1", "X-MICROSOFT-DISALLOW-COUNTER:FALSE", "END:VEVENT")


_AFDELING = "040000008200E00074C5B7101A82E00800000000B0D2C4A1E2A9DB01000000000000000010000000"
KIM_OUTLOOK = _ical(
    "BEGIN:VCALENDAR",
    "METHOD:PUBLISH",
    "PRODID:Microsoft Exchange Server 2010",
    "VERSION:2.0",
    "X-WR-CALNAME:Agenda",
    *WINDOWS_VTIMEZONE,
    # Tuesdays 09:00 until 23 November (UNTIL is inclusive); 19 October skipped; 16 November moved
    # to Wednesday 17 November.
    *_outlook(_AFDELING, "Afdelingsoverleg", "BUSY", "OPAQUE",
              "RRULE:FREQ=WEEKLY;UNTIL=20271123T080000Z;INTERVAL=1;BYDAY=TU;WKST=MO",
              f"EXDATE;{_W}:20271019T090000",
              f"DTSTART;{_W}:20271005T090000", f"DTEND;{_W}:20271005T100000",
              "X-MICROSOFT-CDO-ALLDAYEVENT:FALSE", "X-MICROSOFT-CDO-INSTTYPE:1"),
    *_outlook(_AFDELING, "Afdelingsoverleg", "BUSY", "OPAQUE",
              f"RECURRENCE-ID;{_W}:20271116T090000",
              f"DTSTART;{_W}:20271117T090000", f"DTEND;{_W}:20271117T100000",
              "X-MICROSOFT-CDO-ALLDAYEVENT:FALSE", "X-MICROSOFT-CDO-INSTTYPE:3"),
    *_outlook("040000008200E00074C5B7101A82E0080000000010C1B2A3E2A9DB01000000000000000010000001",
              "Vakantie", "OOF", "OPAQUE",
              "DTSTART;VALUE=DATE:20271108", "DTEND;VALUE=DATE:20271113",
              "X-MICROSOFT-CDO-ALLDAYEVENT:TRUE", "X-MICROSOFT-CDO-INSTTYPE:0"),
    # Outlook's default all-day event: shown as free.
    *_outlook("040000008200E00074C5B7101A82E0080000000020C1B2A3E2A9DB01000000000000000010000002",
              "Dag van de Duurzaamheid", "FREE", "TRANSPARENT",
              "DTSTART;VALUE=DATE:20271013", "DTEND;VALUE=DATE:20271014",
              "X-MICROSOFT-CDO-ALLDAYEVENT:TRUE", "X-MICROSOFT-CDO-INSTTYPE:0"),
    *_outlook("040000008200E00074C5B7101A82E0080000000030C1B2A3E2A9DB01000000000000000010000003",
              "Lunch met Piet?", "TENTATIVE", "OPAQUE",
              f"DTSTART;{_W}:20271021T120000", f"DTEND;{_W}:20271021T130000",
              "X-MICROSOFT-CDO-ALLDAYEVENT:FALSE", "X-MICROSOFT-CDO-INSTTYPE:0"),
    *_outlook("040000008200E00074C5B7101A82E0080000000040C1B2A3E2A9DB01000000000000000010000004",
              "Focustijd", "FREE", "TRANSPARENT",
              f"DTSTART;{_W}:20271028T130000", f"DTEND;{_W}:20271028T170000",
              "X-MICROSOFT-CDO-ALLDAYEVENT:FALSE", "X-MICROSOFT-CDO-INSTTYPE:0"),
    # "Working elsewhere" is free for a meeting although TRANSP says OPAQUE: the CDO status decides.
    *_outlook("040000008200E00074C5B7101A82E0080000000050C1B2A3E2A9DB01000000000000000010000005",
              "Thuiswerken", "WORKINGELSEWHERE", "OPAQUE",
              f"DTSTART;{_W}:20271104T090000", f"DTEND;{_W}:20271104T170000",
              "X-MICROSOFT-CDO-ALLDAYEVENT:FALSE", "X-MICROSOFT-CDO-INSTTYPE:0"),
    *_outlook("040000008200E00074C5B7101A82E0080000000060C1B2A3E2A9DB01000000000000000010000006",
              "Klant Gemeente Tilburg", "BUSY", "OPAQUE",
              f"DTSTART;{_W}:20271118T133000", f"DTEND;{_W}:20271118T160000",
              "X-MICROSOFT-CDO-ALLDAYEVENT:FALSE", "X-MICROSOFT-CDO-INSTTYPE:0"),
    *_outlook("040000008200E00074C5B7101A82E0080000000070C1B2A3E2A9DB01000000000000000010000007",
              "Heidag", "BUSY", "OPAQUE",
              f"DTSTART;{_W}:20270930T150000", f"DTEND;{_W}:20271001T110000",
              "X-MICROSOFT-CDO-ALLDAYEVENT:FALSE", "X-MICROSOFT-CDO-INSTTYPE:0"),
    *_outlook("040000008200E00074C5B7101A82E0080000000080C1B2A3E2A9DB01000000000000000010000008",
              "Studiereis", "OOF", "OPAQUE",
              f"DTSTART;{_W}:20271130T160000", f"DTEND;{_W}:20271202T120000",
              "X-MICROSOFT-CDO-ALLDAYEVENT:FALSE", "X-MICROSOFT-CDO-INSTTYPE:0"),
    "END:VCALENDAR",
)

# --------------------------------------------------------------------------- sanne: Google


def _google(uid: str, *lines: str) -> tuple[str, ...]:
    return ("BEGIN:VEVENT", *lines, "DTSTAMP:20270920T060000Z", f"UID:{uid}@google.com",
            "CLASS:PUBLIC", "CREATED:20270101T000000Z", "LAST-MODIFIED:20270101T000000Z", "SEQUENCE:0",
            "STATUS:CONFIRMED", "SUMMARY:Busy", "TRANSP:OPAQUE", "END:VEVENT")


# The free/busy-only feed: every occurrence of sanne's weekly Thursday 14:00 meeting is an event
# of its own, in UTC (12:00Z in summer time, 13:00Z after 31 October); titles are all "Busy".
SANNE_GOOGLE = _ical(
    "BEGIN:VCALENDAR",
    "PRODID:-//Google Inc//Google Calendar 70.9054//EN",
    "VERSION:2.0",
    "CALSCALE:GREGORIAN",
    "METHOD:PUBLISH",
    "X-WR-CALNAME:sanne@example.nl",
    "X-WR-TIMEZONE:Europe/Amsterdam",
    *_google("1a2b3c4d5e6f7g8h9i0j_20271007T120000Z",
             "DTSTART:20271007T120000Z", "DTEND:20271007T130000Z"),
    *_google("1a2b3c4d5e6f7g8h9i0j_20271014T120000Z",
             "DTSTART:20271014T120000Z", "DTEND:20271014T130000Z"),
    *_google("1a2b3c4d5e6f7g8h9i0j_20271021T120000Z",
             "DTSTART:20271021T120000Z", "DTEND:20271021T130000Z"),
    *_google("1a2b3c4d5e6f7g8h9i0j_20271028T120000Z",
             "DTSTART:20271028T120000Z", "DTEND:20271028T130000Z"),
    *_google("1a2b3c4d5e6f7g8h9i0j_20271104T130000Z",
             "DTSTART:20271104T130000Z", "DTEND:20271104T140000Z"),
    *_google("1a2b3c4d5e6f7g8h9i0j_20271111T130000Z",
             "DTSTART:20271111T130000Z", "DTEND:20271111T140000Z"),
    *_google("7k8l9m0n1o2p3q4r5s6t", "DTSTART:20271116T090000Z", "DTEND:20271116T103000Z"),
    # An all-day event someone set to "busy": 22 November in the team's zone.
    *_google("8u9v0w1x2y3z4a5b6c7d", "DTSTART;VALUE=DATE:20271122", "DTEND;VALUE=DATE:20271123"),
    "END:VCALENDAR",
)

# ------------------------------------------------------------------ the servers' free-busy replies

# Xandikos 0.4.10's free-busy-query answer for BRAM_NETWERK over [START, END), as recorded from
# the server (only DTSTAMP changed): periods in the order of the objects' file names, neither sorted
# nor merged; BUSY without FBTYPE; the event with a DURATION as start/duration; a folded line;
# cancelled and transparent events left out; the declined "Golfdag" kept; the all-day "Cursus" as
# 00:00-24:00 UTC; the straddling "Nachtdienst" clipped. Served as application/octet-stream.
BRAM_XANDIKOS_REPLY = _ical(
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Jelmer Vernoo\u0133//Xandikos//EN",
    "BEGIN:VFREEBUSY",
    "DTEND:20271130T230000Z",
    "DTSTAMP:20270920T080000Z",
    "DTSTART:20270930T220000Z",
    "FREEBUSY;VALUE=PERIOD:20271028T000000Z/20271029T000000Z",
    "FREEBUSY;VALUE=PERIOD:20271119T090000Z/20271119T150000Z",
    "FREEBUSY;VALUE=PERIOD:20271007T113000Z/20271007T123000Z",
    "FREEBUSY;VALUE=PERIOD:20271007T120000Z/PT1H30M",
    "FREEBUSY;VALUE=PERIOD:20271004T100000Z/20271004T110000Z",
    "FREEBUSY;VALUE=PERIOD:20271018T100000Z/20271018T110000Z",
    "FREEBUSY;VALUE=PERIOD:20271025T100000Z/20271025T110000Z",
    "FREEBUSY;VALUE=PERIOD:20270930T220000Z/20271001T040000Z",
    "FREEBUSY;FBTYPE=BUSY-TENTATIVE;VALUE=PERIOD:20271111T130000Z/20271111T1500",
    " 00Z",
    "FREEBUSY;VALUE=PERIOD:20271125T130000Z/20271125T143000Z",
    "END:VFREEBUSY",
    "END:VCALENDAR",
)

# Radicale 3.9.0's answer for the same, recorded likewise: periods merged per FBTYPE and sorted;
# FBTYPE on every line; the cancelled "Heidag" listed as FBTYPE=FREE; otherwise as Xandikos.
BRAM_RADICALE_REPLY = _ical(
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//PYVOBJECT//NONSGML Version 0.9.9//EN",
    "BEGIN:VFREEBUSY",
    "DTSTART:20270930T220000Z",
    "DTEND:20271130T230000Z",
    "DTSTAMP:20270920T080000Z",
    "FREEBUSY;FBTYPE=BUSY:20270930T220000Z/20271001T040000Z",
    "FREEBUSY;FBTYPE=BUSY:20271004T100000Z/20271004T110000Z",
    "FREEBUSY;FBTYPE=BUSY:20271007T113000Z/20271007T133000Z",
    "FREEBUSY;FBTYPE=BUSY:20271018T100000Z/20271018T110000Z",
    "FREEBUSY;FBTYPE=FREE:20271021T070000Z/20271021T150000Z",
    "FREEBUSY;FBTYPE=BUSY:20271025T100000Z/20271025T110000Z",
    "FREEBUSY;FBTYPE=BUSY:20271028T000000Z/20271029T000000Z",
    "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20271111T130000Z/20271111T150000Z",
    "FREEBUSY;FBTYPE=BUSY:20271119T090000Z/20271119T150000Z",
    "FREEBUSY;FBTYPE=BUSY:20271125T130000Z/20271125T143000Z",
    "END:VFREEBUSY",
    "END:VCALENDAR",
)

# ------------------------------------------------------------------------------ expectations


def _at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2027, month, day, hour, minute, tzinfo=timezone.utc)


def _busy(begin: datetime, end: datetime, what: str = "", tentative: bool = False) -> BusyTime:
    return BusyTime(begin, end, what, tentative)


_TEAMOVERLEG = "Teamoverleg"
_AFDELINGSOVERLEG = "Afdelingsoverleg"

EXPECTED: dict[str, tuple[BusyTime, ...]] = {
    "HANNA_WERK": (
        _busy(_at(10, 7, 12), _at(10, 7, 13), _TEAMOVERLEG),
        _busy(_at(10, 17, 22), _at(10, 20, 22), "Vakantie"),           # Mon-Wed, 00:00 CEST
        _busy(_at(10, 21, 12), _at(10, 21, 13), _TEAMOVERLEG),
        _busy(_at(10, 26, 10), _at(10, 26, 11), "Lunch met Piet", tentative=True),
        _busy(_at(10, 28, 12), _at(10, 28, 13), _TEAMOVERLEG),
        _busy(_at(10, 29, 7), _at(11, 1, 16), "Congres Water & Bodem"),
        _busy(_at(11, 2, 7, 30), _at(11, 2, 8, 15), "Tandarts"),
        _busy(_at(11, 5, 9), _at(11, 5, 10), _TEAMOVERLEG),              # moved from Thu 4 Nov
        _busy(_at(11, 11, 13), _at(11, 11, 14), _TEAMOVERLEG),           # 14:00 CET
        _busy(_at(11, 30, 8), _at(11, 30, 9), _TEAMOVERLEG),             # moved in from 9 Dec
    ),
    "BRAM_NETWERK": (
        _busy(_at(9, 30, 22), _at(10, 1, 4), "Nachtdienst"),
        _busy(_at(10, 4, 10), _at(10, 4, 11), "Lunchwandeling"),
        _busy(_at(10, 7, 11, 30), _at(10, 7, 12, 30), "Interview"),
        _busy(_at(10, 7, 12), _at(10, 7, 13, 30), "Klantoverleg"),
        _busy(_at(10, 18, 10), _at(10, 18, 11), "Lunchwandeling"),
        _busy(_at(10, 25, 10), _at(10, 25, 11), "Lunchwandeling"),
        _busy(_at(10, 27, 22), _at(10, 28, 22), "Cursus"),
        _busy(_at(11, 11, 13), _at(11, 11, 15), "Netwerkborrel", tentative=True),
        _busy(_at(11, 25, 13), _at(11, 25, 14, 30), "Stuurgroep"),
    ),
    "KIM_OUTLOOK": (
        _busy(_at(9, 30, 22), _at(10, 1, 9), "Heidag"),
        _busy(_at(10, 5, 7), _at(10, 5, 8), _AFDELINGSOVERLEG),
        _busy(_at(10, 12, 7), _at(10, 12, 8), _AFDELINGSOVERLEG),
        _busy(_at(10, 21, 10), _at(10, 21, 11), "Lunch met Piet?", tentative=True),
        _busy(_at(10, 26, 7), _at(10, 26, 8), _AFDELINGSOVERLEG),
        _busy(_at(11, 2, 8), _at(11, 2, 9), _AFDELINGSOVERLEG),
        _busy(_at(11, 7, 23), _at(11, 12, 23), "Vakantie"),             # Mon-Fri, 00:00 CET
        _busy(_at(11, 9, 8), _at(11, 9, 9), _AFDELINGSOVERLEG),
        _busy(_at(11, 17, 8), _at(11, 17, 9), _AFDELINGSOVERLEG),       # moved from Tue 16 Nov
        _busy(_at(11, 18, 12, 30), _at(11, 18, 15), "Klant Gemeente Tilburg"),
        _busy(_at(11, 23, 8), _at(11, 23, 9), _AFDELINGSOVERLEG),
        _busy(_at(11, 30, 15), _at(11, 30, 23), "Studiereis"),
    ),
    "SANNE_GOOGLE": (
        _busy(_at(10, 7, 12), _at(10, 7, 13), "Busy"),
        _busy(_at(10, 14, 12), _at(10, 14, 13), "Busy"),
        _busy(_at(10, 21, 12), _at(10, 21, 13), "Busy"),
        _busy(_at(10, 28, 12), _at(10, 28, 13), "Busy"),
        _busy(_at(11, 4, 13), _at(11, 4, 14), "Busy"),
        _busy(_at(11, 11, 13), _at(11, 11, 14), "Busy"),
        _busy(_at(11, 16, 9), _at(11, 16, 10, 30), "Busy"),
        _busy(_at(11, 21, 23), _at(11, 22, 23), "Busy"),
    ),
    "BRAM_XANDIKOS_REPLY": (
        _busy(_at(9, 30, 22), _at(10, 1, 4)),
        _busy(_at(10, 4, 10), _at(10, 4, 11)),
        _busy(_at(10, 7, 11, 30), _at(10, 7, 12, 30)),
        _busy(_at(10, 7, 12), _at(10, 7, 13, 30)),
        _busy(_at(10, 18, 10), _at(10, 18, 11)),
        _busy(_at(10, 25, 10), _at(10, 25, 11)),
        _busy(_at(10, 28, 0), _at(10, 29, 0)),
        _busy(_at(11, 11, 13), _at(11, 11, 15), tentative=True),
        _busy(_at(11, 19, 9), _at(11, 19, 15)),
        _busy(_at(11, 25, 13), _at(11, 25, 14, 30)),
    ),
    "BRAM_RADICALE_REPLY": (
        _busy(_at(9, 30, 22), _at(10, 1, 4)),
        _busy(_at(10, 4, 10), _at(10, 4, 11)),
        _busy(_at(10, 7, 11, 30), _at(10, 7, 13, 30)),
        _busy(_at(10, 18, 10), _at(10, 18, 11)),
        _busy(_at(10, 25, 10), _at(10, 25, 11)),
        _busy(_at(10, 28, 0), _at(10, 29, 0)),
        _busy(_at(11, 11, 13), _at(11, 11, 15), tentative=True),
        _busy(_at(11, 19, 9), _at(11, 19, 15)),
        _busy(_at(11, 25, 13), _at(11, 25, 14, 30)),
    ),
}

# Whose calendar each text is, and what was asked for.
PERSON = {"HANNA_WERK": "hanna", "BRAM_NETWERK": "bram", "KIM_OUTLOOK": "kim", "SANNE_GOOGLE": "sanne",
          "BRAM_XANDIKOS_REPLY": "bram", "BRAM_RADICALE_REPLY": "bram"}
KIND = {"BRAM_XANDIKOS_REPLY": "freebusy", "BRAM_RADICALE_REPLY": "freebusy"}


def texts(name: str) -> tuple[bytes, ...]:
    """The texts of one fixture: CalDAV objects one by one, a published calendar or a reply whole."""
    value = globals()[name]
    return value if isinstance(value, tuple) else (value,)


def source_text(name: str, source: str = "") -> SourceText:
    """The fixture as an adapter would hand it over."""
    return SourceText(PERSON[name], source, KIND.get(name, "events"), texts(name))


def expected(name: str, source: str = "") -> list[BusyTime]:
    """The busy times worked out by hand for the fixture, as read from calendar `source`."""
    return [replace(item, source=source) for item in EXPECTED[name]]
