"""Sessions and aftercare where everyone is really free, end to end: people's own calendars on a
real Radicale or Xandikos and published over loopback HTTP, the real command line (sync, export,
invite, plan), and the invitations through a real SMTP server (aiosmtpd).

The calendars are busyfixtures' (weekly meetings with EXDATE and moved occurrences, all-day
out-of-office, tentative, transparent, cancelled and declined events, a congress across the end of
summer time, Outlook's and Google's published shapes, the servers' free-busy replies). Hanna's
CalDAV calendar is both where her events go and where her busy times are read (events path);
Bram's busy times come from a second calendar through the free-busy query; Kim's from an
Outlook-shaped published calendar, Sanne's from a Google-shaped free/busy feed.

Today is Monday 20 September 2027; the horizon is 3 months (until 20 December). Where everything
goes, worked out by hand from busyfixtures (local times, Europe/Amsterdam; summer time ends on
31 October):

- Nazorg ERP-migratie (hanna, bram; 14:00; due Thu 7 Oct): 7 Oct Hanna has her Teamoverleg and Bram
  an interview -> Fri 8 Oct (Bram's all-day "Thuiswerkdag" is transparent: free).
- Bel-uurtje (hanna, kim; Thursdays 14:00): 7 Oct Teamoverleg -> 14 Oct (the Teamoverleg's EXDATE;
  the Bel-uurtje invitation Hanna accepted is there, with our UID: not busy). November: 4 Nov (that
  week's Teamoverleg moved to Friday; Kim "working elsewhere" is free). December: 2 Dec holds the
  Teamoverleg moved in from 18 November -> 9 Dec (that one moved to 30 November).
- Denktank (kim, sanne, bram; Tuesdays 09:00): 5 and 12 Oct Kim's Afdelingsoverleg -> 19 Oct (its
  EXDATE). 2 Nov Afdelingsoverleg, 9 Nov Kim on holiday (OOF) -> 16 Nov (that week's Afdelingsoverleg
  moved to Wednesday). December: 7 Dec.
- Nazorg Waterschap (hanna, kim, sanne; 16:00; due Fri 29 Oct): Hanna's congress runs from Friday
  09:00 (summer time) to Monday 1 Nov 17:00 (winter time) -> Tue 2 Nov.
- Sparring (bram, sanne; Thursdays 14:00): Sanne's feed is busy every Thursday at 14:00 up to
  11 November -> no Thursday in October (skipped, naming who blocks each week); 18 Nov (11 Nov:
  Bram tentative as well); 2 Dec.

Invitations go out for sessions (mail.invite: [session]) to those with an address (Hanna, Sanne);
Kim and Bram have none and get the sessions in their calendars (Kim's file, Bram's CalDAV).
"""
from __future__ import annotations

import email
import email.policy
import json
import textwrap
import threading
import uuid
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

pytest.importorskip("aiosmtpd", reason="the SMTP test server: pip install aiosmtpd (test extra)")
pytest.importorskip("caldav", reason="CalDAV tests need the 'caldav' package")
from aiosmtpd.controller import Controller  # noqa: E402
from icalendar import Calendar  # noqa: E402

import busyfixtures as fx  # noqa: E402
from kalender_sync.core.invitations import invite_uid  # noqa: E402
from kalender_sync.core.planning import uid_for  # noqa: E402
from support import servers  # noqa: E402
from support.cli import run_in_process  # noqa: E402
from support.publishedcalendars import PublishedCalendars, Route  # noqa: E402
from support.servers import free_port  # noqa: E402

pytestmark = pytest.mark.integration

ZONE = ZoneInfo("Europe/Amsterdam")
TODAY = "2027-09-20"
PASSWORD_ENV = "KS_BUSY_PLACEMENT_PASSWORD"
SECRET = "5e1f0c9a7b3d42e8a6c1f0b9d8e7a6c5"      # the token in a published calendar's address
OUTLOOK = f"/owa/calendar/{SECRET}/{{person}}/calendar.ics"
GOOGLE = f"/calendar/ical/{{person}}%40example.nl/{SECRET}/basic.ics"
PLACEMENTS = ".kalender-sync-placements.json"
SNAPSHOT = ".kalender-sync-busy.json"

# Group key -> start, worked out by hand (see above).
SLOTS = {
    "aftercare/erp-migratie/6-weeks": "2027-10-08 14:00",
    "session/bel-uurtje/2027-10": "2027-10-14 14:00",
    "session/denktank/2027-10": "2027-10-19 09:00",
    "aftercare/waterschap/6-weeks": "2027-11-02 16:00",
    "session/bel-uurtje/2027-11": "2027-11-04 14:00",
    "session/denktank/2027-11": "2027-11-16 09:00",
    "session/sparring/2027-11": "2027-11-18 14:00",
    "session/sparring/2027-12": "2027-12-02 14:00",
    "session/denktank/2027-12": "2027-12-07 09:00",
    "session/bel-uurtje/2027-12": "2027-12-09 14:00",
}
PEOPLE = {"aftercare/erp-migratie": ("hanna", "bram"), "aftercare/waterschap": ("hanna", "kim", "sanne"),
          "session/bel-uurtje": ("hanna", "kim"), "session/denktank": ("kim", "sanne", "bram"),
          "session/sparring": ("bram", "sanne")}
EMAILS = {"hanna": "hanna@example.nl", "sanne": "sanne@example.nl"}


def series(group: str) -> str:
    return group.rsplit("/", 1)[0]


def in_calendar(slots: dict[str, str]) -> dict[str, dict[str, str]]:
    """Per person, what their calendar holds of `slots`: everything of theirs, except the sessions
    they get as invitations (those with an address)."""
    result: dict[str, dict[str, str]] = {p: {} for p in ("hanna", "kim", "bram", "sanne")}
    for group, start in slots.items():
        for person in PEOPLE[series(group)]:
            if group.startswith("session/") and person in EMAILS:
                continue
            result[person][group] = start
    return result


def invited(slots: dict[str, str]) -> dict[tuple[str, str], str]:
    """(invitation UID, address) -> start, for the sessions in `slots`."""
    return {(invite_uid(group), EMAILS[person]): start for group, start in slots.items()
            if group.startswith("session/") for person in PEOPLE[series(group)] if person in EMAILS}


# ------------------------------------------------------------------------------------ servers

@dataclass
class Mailbox:
    messages: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.original_content or envelope.content,
                                                          policy=email.policy.default))
        return "250 2.0.0 OK"

    def take(self) -> dict[tuple[str, str], tuple[str, str, int]]:
        """(UID, address) -> (METHOD, local start, SEQUENCE) of the mails since the last take."""
        with self.lock:
            taken, self.messages = self.messages, []
        result = {}
        for message in taken:
            [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
            calendar = Calendar.from_ical(part.get_content())
            [event] = calendar.walk("VEVENT")
            key = (str(event["UID"]), str(message["To"]).split("<")[-1].rstrip(">"))
            assert key not in result, f"two mails for {key} in one run"
            result[key] = (str(calendar["METHOD"]), _shown(event.decoded("DTSTART")), int(event["SEQUENCE"]))
        return result


@pytest.fixture
def smtp():
    box = Mailbox()
    port = free_port()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        controller = Controller(box, hostname="127.0.0.1", port=port)
        controller.start()
    box.port = port
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def site():
    with PublishedCalendars() as published:
        yield published


@pytest.fixture(params=["radicale", "xandikos"])
def server(request):
    return request.getfixturevalue(f"{request.param}_server")


def _shown(moment) -> str:
    return moment.astimezone(ZONE).strftime("%Y-%m-%d %H:%M")


def _auth() -> dict:
    return {"Authorization": servers.basic_auth()}


def put(url: str, body: bytes) -> None:
    reply = servers.http_request("PUT", url, body, {**_auth(), "Content-Type": "text/calendar; charset=utf-8"})
    assert reply.status in (201, 204), (url, reply.status, reply.body[:300])


def appointment(uid: str, summary: str, start: str, end: str) -> bytes:
    """Someone's own appointment, as their calendar app writes it (local times, with the zone)."""
    return ("\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Thunderbird//NL", *fx.AMSTERDAM_VTIMEZONE,
                         "BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20270920T080000Z", f"SUMMARY:{summary}",
                         f"DTSTART;TZID=Europe/Amsterdam:{start}", f"DTEND;TZID=Europe/Amsterdam:{end}",
                         "END:VEVENT", "END:VCALENDAR"]) + "\r\n").encode()


def ours(texts) -> dict[str, tuple[str, str, int]]:
    """Our events among iCalendar texts: group key -> (UID, local start, SEQUENCE)."""
    found = {}
    for text in texts:
        for event in Calendar.from_ical(text).walk("VEVENT"):
            key = event.get("X-KALENDER-SYNC-KEY")
            if key is None or uid_for(str(key)) != str(event["UID"]):
                continue        # not ours (busyfixtures has one that copies our marker)
            group = str(key).rsplit("/", 1)[0]
            assert group not in found, f"{group} twice"
            found[group] = (str(event["UID"]), _shown(event.decoded("DTSTART")), int(event.get("SEQUENCE", 0)))
    return found


class Team:
    """The four people's calendars, the config, and the commands run on it."""

    def __init__(self, server, site: PublishedCalendars, smtp: Mailbox, folder: Path, monkeypatch):
        self.server, self.site, self.smtp, self.folder = server, site, smtp, folder
        run = uuid.uuid4().hex[:8]
        self.werk = {p: server.new_calendar(f"{run}-werk-{p}") for p in ("hanna", "bram")}
        self.netwerk = server.new_calendar(f"{run}-netwerk-bram")
        # The invitation to October's Bel-uurtje that Hanna accepted sits in her calendar at its
        # time, with our UID and without our marker (busyfixtures' "accepted from an invitation").
        accepted = invite_uid("session/bel-uurtje/2027-10")
        for index, text in enumerate(fx.HANNA_WERK):
            put(f"{self.werk['hanna']}fixture-{index}.ics", text.replace(fx.NAZORG_UID.encode(), accepted.encode()))
        for index, text in enumerate(fx.BRAM_NETWERK):
            put(f"{self.netwerk}fixture-{index}.ics", text)
        site.routes[OUTLOOK.format(person="kim")] = Route(fx.KIM_OUTLOOK)
        site.routes[GOOGLE.format(person="sanne")] = Route(fx.SANNE_GOOGLE, etag=False)
        monkeypatch.setenv(PASSWORD_ENV, servers.PASSWORD)
        werk = self.werk["hanna"].replace("-werk-hanna/", "-werk-{person}/")
        netwerk = self.netwerk.replace("-netwerk-bram/", "-netwerk-{person}/")
        self.config = folder / "team.yaml"
        self.config.write_text(textwrap.dedent(f"""\
            version: 1
            team: Infra & Water
            timezone: Europe/Amsterdam
            language: nl
            holidays: NL
            horizon: 3 months
            calendars:
              werk: {{caldav: "{werk}", username: {servers.USERNAME}, password_env: {PASSWORD_ENV}}}
              netwerk: {{caldav: "{netwerk}", username: {servers.USERNAME}, password_env: {PASSWORD_ENV},
                         busy_query: freebusy}}
              outlook: {{url: "{site.url(OUTLOOK)}"}}
              google: {{url: "{site.url(GOOGLE)}"}}
              files: {{ics: "out/{{person}}.ics"}}
            people:
              hanna: {{name: Hanna de Wit, email: hanna@example.nl, calendar: werk, busy: [werk]}}
              kim: {{name: Kim Jansen, calendar: files, busy: [outlook]}}
              bram: {{name: Bram Visser, calendar: werk, busy: [netwerk]}}
              sanne: {{name: Sanne Bakker, email: sanne@example.nl, calendar: files, busy: [google]}}
            mail: {{organizer: agenda@example.nl, organizer_name: Infra & Water, smtp_host: 127.0.0.1,
                    smtp_port: {smtp.port}, security: none, invite: [session]}}
            sessions:
              - {{name: Bel-uurtje, every: month, participants: [hanna, kim], prefer: {{weekday: thu, start: "14:00"}}}}
              - {{name: Denktank, every: month, participants: [kim, sanne, bram], prefer: {{weekday: tue, start: "09:00"}}}}
              - {{name: Sparring, every: month, participants: [bram, sanne], prefer: {{weekday: thu, start: "14:00"}}}}
            projects:
              - {{name: ERP-migratie, team: [hanna, bram], end: 2027-08-26, aftercare: [6 weeks], at: "14:00"}}
              - {{name: Waterschap, team: [hanna, kim, sanne], end: 2027-09-17, aftercare: [6 weeks], at: "16:00"}}
            """), encoding="utf-8")

    def run(self, command: str, *extra: str, today: str = TODAY):
        return run_in_process(command, "--config", str(self.config), "--today", today, *extra,
                              cwd=self.folder, env={"KALENDER_SYNC_CONFIG": None})

    def json(self, command: str, *extra: str, today: str = TODAY, code: int = 0) -> dict:
        result = self.run(command, "--format", "json", *extra, today=today)
        assert result.returncode == code, (result.stdout[-3000:], result.stderr)
        return json.loads(result.stdout)

    def carry_out(self, today: str = TODAY, code: int = 0) -> tuple[dict, dict]:
        """sync and invite, as a daily job runs them: what sync did, and the mails sent."""
        synced = self.json("sync", today=today, code=code)
        self.json("invite", today=today, code=code)
        return synced, self.smtp.take()

    def calendars(self, today: str = TODAY) -> dict[str, dict[str, str]]:
        """Per person, our events in their calendar from `today` on: group key -> local start."""
        held = {}
        for person in ("hanna", "bram"):
            held[person] = self.caldav(self.werk[person])
        for person in ("kim", "sanne"):
            held[person] = ours([(self.folder / "out" / f"{person}.ics").read_bytes()])
        return {person: {group: start for group, (_, start, _) in events.items() if start >= today}
                for person, events in held.items()}

    def caldav(self, url: str) -> dict[str, tuple[str, str, int]]:
        import caldav
        client = caldav.DAVClient(url=url, username=servers.USERNAME, password=servers.PASSWORD)
        try:
            return ours(event.data for event in client.calendar(url=url).events())
        finally:
            client.close()

    def placements(self) -> dict[str, str]:
        doc = json.loads((self.folder / PLACEMENTS).read_bytes())
        return {group: _shown(datetime.fromisoformat(p["start"])) for group, p in doc["placements"].items()}


def wrote(synced: dict) -> dict[str, dict]:
    """What a sync changed, per calendar (nothing: an empty dict)."""
    return {c["person"]: {a: n for a, n in c["done"].items() if a in ("create", "update", "delete") and n}
            for c in synced["calendars"] if any(c["done"].get(a) for a in ("create", "update", "delete"))}


@pytest.fixture
def team(server, site, smtp, tmp_path, monkeypatch):
    return Team(server, site, smtp, tmp_path, monkeypatch)


# ---------------------------------------------------------------------------------------- tests

def test_slots_worked_out_by_hand_then_stable_and_our_own_events_never_push_them(team):
    # `plan` says where everything goes and why, and writes nothing.
    shown = team.json("plan")
    assert {p["group"]: _shown(datetime.fromisoformat(p["start"])) for p in shown["placements"]} == SLOTS
    reasons = {p["group"]: p["reason"] for p in shown["placements"]}
    assert reasons["session/bel-uurtje/2027-10"] == (
        "Thu 14 Oct 14:00: first Thursday of October when all are free — 7 Oct Hanna de Wit busy (Teamoverleg)")
    assert reasons["aftercare/waterschap/6-weeks"].startswith("Tue 2 Nov 16:00: ")
    assert "29 Oct Hanna de Wit busy (Congres Water & Bodem), 1 Nov Hanna de Wit busy (Congres Water & Bodem)" \
        in reasons["aftercare/waterschap/6-weeks"]
    assert "9 Nov Kim Jansen busy (Vakantie)" in reasons["session/denktank/2027-11"]
    assert "11 Nov Bram Visser tentative" in reasons["session/sparring/2027-11"]
    [october] = [s for s in shown["skipped"] if s["what"] == "Sparring 2027-10"]
    assert "Sanne Bakker busy (Busy)" in october["reason"] and "Bram Visser busy" in october["reason"]
    assert shown["conflicts"] == [] and shown["busy"]["unreadable"] == {}
    assert not (team.folder / PLACEMENTS).exists() and not (team.folder / SNAPSHOT).exists()
    table = team.run("plan")
    assert table.returncode == 0, table.stderr
    assert "  Bel-uurtje: Thu 14 Oct 14:00: first Thursday of October when all are free" in table.stdout

    # sync and invite carry it out: every calendar and every invitation at the slots above.
    synced, mails = team.carry_out()
    assert all(c["read"] and not c["failures"] for c in synced["calendars"])
    assert team.calendars() == in_calendar(SLOTS)
    assert {key: start for key, (method, start, sequence) in mails.items()} == invited(SLOTS)
    assert {(method, sequence) for method, _, sequence in mails.values()} == {("REQUEST", 0)}
    assert team.placements() == SLOTS
    placements, snapshot = (team.folder / PLACEMENTS).read_bytes(), (team.folder / SNAPSHOT).read_bytes()
    for name in (PLACEMENTS, SNAPSHOT, ".kalender-sync-busy-cache.json"):
        assert (team.folder / name).stat().st_mode & 0o777 == 0o600
    assert SECRET.encode() not in snapshot

    # Again: nothing to write, nothing to send, the same placements and the same busy times read.
    # Hanna's calendar now holds both aftercare events we put there, and the accepted Bel-uurtje
    # invitation: none of them is busy, so nothing moves off its own time.
    synced, mails = team.carry_out()
    assert wrote(synced) == {} and mails == {}
    assert (team.folder / PLACEMENTS).read_bytes() == placements
    assert (team.folder / SNAPSHOT).read_bytes() == snapshot

    # The placements lost: placed afresh, at the same times (our own events still do not count),
    # with the same UIDs: nothing written, nothing sent, no duplicate anywhere.
    (team.folder / PLACEMENTS).unlink()
    synced, mails = team.carry_out()
    assert wrote(synced) == {} and mails == {}
    assert (team.folder / PLACEMENTS).read_bytes() == placements
    assert team.calendars() == in_calendar(SLOTS)

    # --offline plans from the kept busy times: Sanne's feed now has a meeting on the Denktank of
    # 19 October, which a reading run would move the session away from; the offline export is byte
    # for byte the one made before, and Sanne's feed is not asked.
    exported = team.run("export", "--out", "online")
    assert exported.returncode == 0, exported.stderr
    route = GOOGLE.format(person="sanne")
    team.site.routes[route] = Route(fx.SANNE_GOOGLE.replace(b"END:VCALENDAR", (
        "BEGIN:VEVENT\r\nDTSTART:20271019T063000Z\r\nDTEND:20271019T080000Z\r\nDTSTAMP:20270920T060000Z\r\n"
        "UID:nieuw@google.com\r\nSUMMARY:Busy\r\nEND:VEVENT\r\nEND:VCALENDAR").encode()), etag=False)
    asked = len(team.site.requests_to(route))
    offline = team.run("export", "--out", "offline", "--offline")
    assert offline.returncode == 0, offline.stderr
    assert len(team.site.requests_to(route)) == asked
    assert offline.stdout.replace("offline/", "online/") == exported.stdout
    for name in ("hanna", "kim", "bram", "sanne"):
        assert (team.folder / "offline" / f"{name}.ics").read_bytes() == \
            (team.folder / "online" / f"{name}.ics").read_bytes()
    # Read now, 19 October is taken, and so is the only later Tuesday of October (Kim's 26th):
    # with nowhere to go, the placed session stays on the 19th (deleting it from everyone's
    # calendar would lose it) and the plan reports the conflict, naming who is busy.
    online = team.json("plan")
    [denktank] = [p for p in online["placements"] if p["group"] == "session/denktank/2027-10"]
    assert "no other time is free" in denktank["reason"], denktank
    assert "Denktank 2027-10" not in {s["what"] for s in online["skipped"]}
    [conflict] = [c for c in online["conflicts"] if c["what"] == "Denktank 2027-10"]
    assert conflict["reason"].startswith("kept at Tue 19 Oct") and "Sanne" in conflict["reason"], conflict


def test_a_new_appointment_moves_what_is_far_ahead_and_keeps_what_is_close(team):
    team.carry_out()
    before = {group: (uid, seq) for group, (uid, _, seq) in team.caldav(team.werk["bram"]).items()}
    # Bram gets appointments on the Denktank of 16 November and of 7 December.
    put(f"{team.netwerk}klant-1116.ics", appointment("klant-1116@example.nl", "Nieuwe klant",
                                                      "20271116T090000", "20271116T100000"))
    put(f"{team.netwerk}klant-1207.ics", appointment("klant-1207@example.nl", "Nieuwe klant",
                                                      "20271207T090000", "20271207T100000"))
    # On Friday 5 November, 16 November is inside the 14-day notice period: kept, and reported;
    # 7 December is not: the Denktank moves a week, to 14 December (Kim's Afdelingsoverleg ended
    # on 23 November).
    today = "2027-11-05"
    shown = team.json("plan", today=today)
    placed = {p["group"]: _shown(datetime.fromisoformat(p["start"])) for p in shown["placements"]}
    assert placed["session/denktank/2027-11"] == "2027-11-16 09:00"
    assert placed["session/denktank/2027-12"] == "2027-12-14 09:00"
    assert [(c["what"], c["reason"]) for c in shown["conflicts"]] == [
        ("Denktank 2027-11", "kept at Tue 16 Nov 09:00 (inside the 14-day notice period) although Bram Visser busy")]
    moved = {p["group"]: p["reason"] for p in shown["placements"]}["session/denktank/2027-12"]
    assert "moved from Tue 7 Dec 09:00: Bram Visser busy" in moved

    synced, mails = team.carry_out(today=today)
    assert synced["conflicts"] == shown["conflicts"]
    # The move reaches everyone: Kim's file, Bram's CalDAV event (same UID, one of it), Sanne's
    # invitation (same UID, higher SEQUENCE); nothing else was sent again.
    slots = {**SLOTS, "session/denktank/2027-12": "2027-12-14 09:00"}
    held = team.calendars(today)
    for person in ("kim", "bram"):
        for group in ("session/denktank/2027-11", "session/denktank/2027-12"):
            assert held[person][group] == slots[group]
    bram = {group: (uid, seq) for group, (uid, _, seq) in team.caldav(team.werk["bram"]).items()}
    assert bram["session/denktank/2027-12"][0] == before["session/denktank/2027-12"][0]
    assert bram["session/denktank/2027-11"] == before["session/denktank/2027-11"]
    december = (invite_uid("session/denktank/2027-12"), "sanne@example.nl")
    assert mails[december] == ("REQUEST", "2027-12-14 09:00", 1)
    assert all(start >= "2028-01-01" for key, (_, start, _) in mails.items() if key != december), mails
    assert team.placements()["session/denktank/2027-11"] == "2027-11-16 09:00"
    assert team.placements()["session/denktank/2027-12"] == "2027-12-14 09:00"
    # ... and it stays there.
    synced, mails = team.carry_out(today=today)
    assert wrote(synced) == {} and mails == {}


def test_a_source_that_cannot_be_read_exits_3_and_nothing_moves_or_goes(team):
    team.carry_out()
    placements = (team.folder / PLACEMENTS).read_bytes()
    files = {p: (team.folder / "out" / f"{p}.ics").read_bytes() for p in ("kim", "sanne")}
    # Kim's published calendar is gone (404), and Hanna gets an appointment on November's
    # Bel-uurtje (Hanna and Kim), far ahead: with Kim's busy times unknown, it stays.
    del team.site.routes[OUTLOOK.format(person="kim")]
    put(f"{team.werk['hanna']}wethouder.ics", appointment("wethouder@example.nl", "Overleg wethouder",
                                                           "20271104T140000", "20271104T150000"))

    result = team.run("sync", "--format", "json")
    assert result.returncode == 3, result.stderr
    assert "busy times could not be read for: Kim Jansen (kim): outlook (http://127.0.0.1:" in result.stderr
    assert "404 Not Found" in result.stderr and SECRET not in result.stderr + result.stdout
    synced = json.loads(result.stdout)
    assert wrote(synced) == {}
    assert synced["busy"]["unreadable"].keys() == {"kim"}
    [conflict] = synced["conflicts"]
    assert conflict["what"] == "Bel-uurtje 2027-11" and "Kim Jansen's busy times could not be read" in conflict["reason"]
    invited_now = team.run("invite", "--format", "json")
    assert invited_now.returncode == 3 and json.loads(invited_now.stdout)["sent"] == 0
    assert team.smtp.take() == {}
    exported = team.run("export")
    assert exported.returncode == 3 and "0 changed, 0 removed" in exported.stdout
    plan = team.run("plan")
    assert plan.returncode == 3
    assert "busy times could not be read: Kim Jansen (kim): outlook (http://127.0.0.1:" in plan.stdout
    assert "conflict: Bel-uurtje 2027-11: kept at Thu 4 Nov 14:00" in plan.stdout

    assert (team.folder / PLACEMENTS).read_bytes() == placements
    assert {p: (team.folder / "out" / f"{p}.ics").read_bytes() for p in ("kim", "sanne")} == files
    assert team.calendars() == in_calendar(SLOTS)


# ---------------------------------------------------------------------------- without servers

def _small_team(folder: Path, busy: bool) -> Path:
    if not (folder / "kim.ics").exists():
        (folder / "kim.ics").write_bytes(fx.KIM_OUTLOOK)
    config = folder / "team.yaml"
    config.write_text(textwrap.dedent(f"""\
        version: 1
        timezone: Europe/Amsterdam
        calendars:
          files: {{ics: "out/{{person}}.ics"}}
          outlook: {{url: "{folder.as_uri()}/{{person}}.ics"}}
        people:
          kim: {{name: Kim Jansen, calendar: files{", busy: [outlook]" if busy else ""}}}
          ad: {{name: Ad Verhoeven, calendar: files}}
        sessions:
          - {{name: Bel-uurtje, every: quarter, participants: all, prefer: {{weekday: thu, start: "14:00"}}}}
        """), encoding="utf-8")
    return config


def _run(config: Path, *args: str):
    return run_in_process(*args, "--config", str(config), "--today", TODAY, cwd=config.parent,
                          env={"KALENDER_SYNC_CONFIG": None})


def test_offline_without_kept_busy_times_is_a_usage_error(tmp_path):
    config = _small_team(tmp_path, busy=True)
    for command in ("plan", "export", "sync"):
        result = _run(config, command, "--offline")
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert f"--offline: no busy times were kept yet ({tmp_path / SNAPSHOT} does not exist)" in result.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / PLACEMENTS).exists()


def test_a_team_without_busy_sources_reads_and_keeps_nothing_new(tmp_path):
    config = _small_team(tmp_path, busy=False)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = _run(config, "export")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(before + ["out"])
    shown = _run(config, "plan", "--format", "json", "--offline")   # nothing to be offline from: as ever
    assert shown.returncode == 0, shown.stderr
    assert not {"busy", "placements", "conflicts"} & json.loads(shown.stdout).keys()
    # A placements file another config left is not read either.
    (tmp_path / PLACEMENTS).write_text("not json")
    again = _run(config, "export")
    assert again.returncode == 0, again.stderr


def test_feeds_plan_from_the_kept_busy_times_and_never_read_a_calendar(tmp_path):
    from datetime import date

    from kalender_sync.engine.feeds import FeedPlans
    (tmp_path / "kim.ics").write_bytes(appointment("overleg@example.nl", "Teamoverleg", "20271007T140000",
                                                   "20271007T150000"))
    config = _small_team(tmp_path, busy=True)
    feeds = FeedPlans(config, today=date(2027, 9, 20))
    # No busy times kept yet: Kim's are unknown, so no new session is placed for her.
    assert "session/bel-uurtje/2027-10" not in ours([feeds.feed("kim")])
    assert "Bel-uurtje 2027-10" in {s.what for s in feeds.current().plan.skipped}
    exported = _run(config, "export")
    assert exported.returncode == 0, exported.stderr
    # The export read them and kept them: the feed follows (7 October Kim is busy), and keeps
    # doing so when her calendar is gone, since a feed never reads one.
    assert ours([feeds.feed("kim")])["session/bel-uurtje/2027-10"][1] == "2027-10-14 14:00"
    (tmp_path / "kim.ics").unlink()
    assert ours([feeds.feed("kim")])["session/bel-uurtje/2027-10"][1] == "2027-10-14 14:00"
    assert ours([feeds.feed("ad")])["session/bel-uurtje/2027-10"][1] == "2027-10-14 14:00"
    assert feeds.health()["status"] == "ok"


def test_the_placements_store_keeps_the_last_of_each_and_says_when_it_cannot_be_read(tmp_path):
    from datetime import date

    from kalender_sync.core.planning import Placement
    from kalender_sync.storage.placements import PlacementsError, load_placements, remember_placements
    path = tmp_path / PLACEMENTS
    assert load_placements(path) == {}
    first = {"session/a/2027-10": Placement(datetime(2027, 10, 14, 14, tzinfo=ZONE), "2027-10 thu 14:00"),
             "session/a/2025-10": Placement(datetime(2025, 10, 9, 14, tzinfo=ZONE), "2025-10 thu 14:00")}
    assert remember_placements(path, first, date(2027, 9, 20))
    assert path.stat().st_mode & 0o777 == 0o600
    # what began before last year is dropped: no plan asks for it again
    assert load_placements(path) == {"session/a/2027-10": first["session/a/2027-10"]}
    later = {"session/a/2027-10": Placement(datetime(2027, 10, 21, 14, tzinfo=ZONE), "2027-10 thu 14:00"),
             "session/a/2027-11": Placement(datetime(2027, 11, 4, 14, tzinfo=ZONE), "2027-11 thu 14:00")}
    assert remember_placements(path, later, date(2027, 9, 21))
    assert load_placements(path) == later
    stored = path.read_bytes()
    assert not remember_placements(path, {"session/a/2027-11": later["session/a/2027-11"]}, date(2027, 9, 21))
    assert path.read_bytes() == stored
    path.write_text('{"version": 1, "placements": {"session/a/2027-10": {"start": "2027-10-21T14:00:00"}}}')
    with pytest.raises(PlacementsError, match="cannot be read .*move it away"):
        load_placements(path)

    # A command says so (exit 1) and writes nothing.
    config = _small_team(tmp_path, busy=True)
    result = _run(config, "export")
    assert result.returncode == 1 and f"the placements file {path} cannot be read" in result.stderr
    assert not (tmp_path / "out").exists()
