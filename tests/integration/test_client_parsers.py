"""Every time right in every calendar client: what the tool hands out, read by the clients' own parsers.

For `--today` on the 1st of every month of 2027, the example team's

* exported .ics files (the `export` command, one folder used month after month),
* feed bodies (engine.feeds.FeedPlans, exactly what the feed server serves),
* CalDAV objects as a real Radicale stores them (the `sync` command, then one REPORT per calendar),
* invitation mails (the text/calendar part of targets.mail.build_message, the message SMTP sends)

are read by Mozilla's ical.js (Thunderbird, Nextcloud, many web clients: tests/clients/icaljs.mjs under
Node), libical (Evolution, GNOME: tests/clients/libical_read.py under Debian's python3 with
gir1.2-ical-3.0), icalendar (with the file's own VTIMEZONE, through dateutil) and `ical` (the PyPI
package, as it reads a file by default). For every VEVENT, start, end, all-day flag and alarm instant
must be the same in all four and equal to the planned event's own instants (zoneinfo).

The parsers are installed by .ci/run (apt: nodejs npm gir1.2-ical-3.0 python3-gi; `npm ci --prefix
tests/clients`); a missing one fails the test, with what to install.
"""
from __future__ import annotations

import email
import json
import shutil
import subprocess
import time
import uuid
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from icalendar import Calendar

from helpers import EXAMPLE
from support.cli import run_in_process
from support.servers import PASSWORD, CalDAVTarget, basic_auth, http_request

from kalender_sync.core.config import load_team
from kalender_sync.core.contactlog import load_log
from kalender_sync.core.history import calendar_plan
from kalender_sync.core.invitations import plan_mails
from kalender_sync.core.planning import plan
from kalender_sync.core.timezones import VTimezones
from kalender_sync.engine.feeds import FeedPlans
from kalender_sync.engine.runs import stamp_for
from kalender_sync.storage.invites import InviteState
from kalender_sync.targets.mail import build_message

pytestmark = pytest.mark.integration

CLIENTS = Path(__file__).resolve().parents[1] / "clients"
SYSTEM_PYTHON = "/usr/bin/python3"
MONTHS = [date(2027, month, 1) for month in range(1, 13)]
PASSWORD_ENV = "KS_TEST_CALDAV_PASSWORD"
PARSERS = ("ical.js", "libical", "icalendar", "ical")
MAIL = """
mail: {organizer: coach@example.nl, organizer_name: Netwerkcoach, smtp_host: 127.0.0.1, smtp_port: 2525,
       security: none, invite: [session, aftercare]}
"""
BATCH = 400                       # texts per parser process


# -- the parsers --------------------------------------------------------------------------------

def _missing_parsers() -> list[str]:
    missing = []
    if shutil.which("node") is None:
        missing.append("Node.js for ical.js: apt-get install -y nodejs npm")
    elif not (CLIENTS / "node_modules" / "ical.js" / "package.json").exists():
        missing.append("ical.js: npm ci --prefix tests/clients")
    probe = ("import gi; gi.require_version('ICalGLib', '3.0'); from gi.repository import ICalGLib")
    if not Path(SYSTEM_PYTHON).exists() or subprocess.run(
            [SYSTEM_PYTHON, "-c", probe], capture_output=True, timeout=60).returncode != 0:
        missing.append(f"libical for {SYSTEM_PYTHON}: apt-get install -y gir1.2-ical-3.0 python3-gi")
    return missing


def _run_batched(command: list[str], texts: list[tuple[str, str]]) -> dict[str, dict]:
    """name -> {"events": [...], "error": ...}, from one process per BATCH texts."""
    result = {}
    for first in range(0, len(texts), BATCH):
        chunk = [{"name": name, "text": text} for name, text in texts[first:first + BATCH]]
        run = subprocess.run(command, input=json.dumps(chunk), capture_output=True, text=True,
                             encoding="utf-8", timeout=300, cwd=CLIENTS)
        assert run.returncode == 0, f"{' '.join(command)} failed:\n{run.stderr[-3000:]}"
        for item in json.loads(run.stdout):
            result[item["name"]] = item
    return result


def _utc(moment) -> str:
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            raise ValueError(f"floating time {moment.isoformat()}")
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.isoformat()


def _read_icalendar(text: str) -> list[dict]:
    """icalendar with the file's own VTIMEZONEs (dateutil's reading of the rules), not the
    IANA database it would use by default for a TZID it knows."""
    calendar = Calendar.from_ical(text)
    zones = {str(tz["tzid"]): tz.to_tz(lookup_tzid=False) for tz in calendar.walk("VTIMEZONE")}

    def moment(prop):
        value = prop.dt
        tzid = prop.params.get("TZID")
        if tzid is not None:
            if str(tzid) not in zones:
                raise ValueError(f"TZID {tzid} has no VTIMEZONE")
            value = value.replace(tzinfo=None).replace(tzinfo=zones[str(tzid)])
        return value

    events = []
    for vevent in calendar.walk("VEVENT"):
        start = moment(vevent["dtstart"])
        end = moment(vevent["dtend"]) if "dtend" in vevent else start + vevent.decoded("duration")
        alarms = []
        for alarm in vevent.walk("VALARM"):
            trigger = alarm.decoded("trigger")
            if isinstance(trigger, timedelta):
                anchor = end if alarm["trigger"].params.get("RELATED") == "END" else start
                alarms.append(_utc(anchor.astimezone(timezone.utc) + trigger))
            else:
                alarms.append(_utc(trigger))
        recurrence = vevent.get("recurrence-id")
        events.append({"uid": str(vevent["uid"]), "recurrence_id": _utc(moment(recurrence)) if recurrence else None,
                       "start": _utc(start), "end": _utc(end), "all_day": not isinstance(start, datetime),
                       "alarms": alarms})
    return events


def _read_ical(text: str) -> list[dict]:
    from ical.calendar_stream import IcsCalendarStream
    calendar = IcsCalendarStream.calendar_from_ics(text)
    events = []
    for event in calendar.events:
        alarms = []
        for alarm in event.alarm:
            trigger = alarm.trigger
            if isinstance(trigger, timedelta):
                alarms.append(_utc(event.dtstart.astimezone(timezone.utc) + trigger))
            else:
                alarms.append(_utc(trigger))
        events.append({"uid": event.uid, "recurrence_id": _utc(event.recurrence_id) if event.recurrence_id else None,
                       "start": _utc(event.dtstart), "end": _utc(event.end),
                       "all_day": not isinstance(event.dtstart, datetime), "alarms": alarms})
    return events


def _in_process(reader, texts: list[tuple[str, str]]) -> dict[str, dict]:
    result = {}
    for name, text in texts:
        try:
            result[name] = {"events": reader(text), "error": None}
        except Exception as exc:  # noqa: BLE001 - a text a parser refuses is a finding, not a crash
            result[name] = {"events": [], "error": f"{type(exc).__name__}: {exc}"}
    return result


def read_with_every_parser(texts: list[tuple[str, str]], seconds: dict[str, float]) -> dict[str, dict[str, dict]]:
    """parser -> text name -> {"events": [...], "error": ...}. A text handed out again
    unchanged (a CalDAV object a later sync left alone) is read once."""
    unique: dict[str, str] = {}
    for name, text in texts:
        unique.setdefault(text, name)
    once = [(name, text) for text, name in unique.items()]
    readers = {
        "ical.js": lambda: _run_batched(["node", str(CLIENTS / "icaljs.mjs")], once),
        "libical": lambda: _run_batched([SYSTEM_PYTHON, str(CLIENTS / "libical_read.py")], once),
        "icalendar": lambda: _in_process(_read_icalendar, once),
        "ical": lambda: _in_process(_read_ical, once),
    }
    readings = {}
    for parser, reader in readers.items():
        began = time.perf_counter()
        readings[parser] = reader()
        seconds[parser] = time.perf_counter() - began
    return {parser: {name: by_name[unique[text]] for name, text in texts} for parser, by_name in readings.items()}


# -- what the tool hands out, month by month ----------------------------------------------------

def _expected(start, end, all_day: bool, alarm: timedelta | None) -> dict:
    alarms = [] if alarm is None or all_day else [_utc(start.astimezone(timezone.utc) - alarm)]
    return {"start": _utc(start), "end": _utc(end), "all_day": all_day, "alarms": alarms}


def _team(text: str, folder: Path):
    team = load_team(text, str(folder / "team.yaml"))
    return load_log(team, (folder / "contacts-log.yaml").read_text(encoding="utf-8"), "contacts-log.yaml")


def _dav_config(text: str, home: str, username: str) -> str:
    """The example team with every person's calendar on the CalDAV server, at `home`{person}/."""
    calendars = "calendars:\n"
    assert text.count(calendars) == 1, "the example config has one calendars: section"
    dav = (f'{calendars}  dav: {{caldav: "{home}{{person}}/", username: {username}, '
           f"password_env: {PASSWORD_ENV}}}\n")
    moved = text.replace(calendars, dav).replace("calendar: files", "calendar: dav")
    assert "calendar: files" not in moved and moved.count("calendar: dav") >= 5
    return moved


def _report(url: str) -> list[tuple[str, str]]:
    """Every calendar object in a collection, as the server returns it (one calendar-query)."""
    body = (b'<?xml version="1.0" encoding="utf-8"?>'
            b'<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            b'<D:prop><C:calendar-data/></D:prop>'
            b'<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter>'
            b'</C:calendar-query>')
    reply = http_request("REPORT", url, body=body, headers={
        "Authorization": basic_auth(), "Depth": "1", "Content-Type": "application/xml; charset=utf-8"})
    assert reply.status == 207, (url, reply.status, reply.body[:500])
    texts = []
    for response in ET.fromstring(reply.body).iter("{DAV:}response"):
        href = response.findtext("{DAV:}href")
        data = response.find(".//{urn:ietf:params:xml:ns:caldav}calendar-data")
        if data is not None and data.text:
            texts.append((href, data.text))
    return texts


class Collected:
    def __init__(self):
        self.texts: list[tuple[str, str]] = []          # (name, iCalendar text)
        self.kind_of: dict[str, str] = {}               # name -> file | feed | caldav | mail
        self.truth: dict[str, dict[str, list[dict]]] = {}   # name -> uid -> the planned versions
        self.event_kinds: set[str] = set()
        self.seconds: dict[str, float] = {}

    def add(self, kind: str, name: str, text: str, truth: dict[str, list[dict]]) -> None:
        self.texts.append((name, text))
        self.kind_of[name] = kind
        self.truth[name] = truth


@pytest.fixture(scope="module")
def collected(tmp_path_factory, radicale_server) -> Collected:
    missing = _missing_parsers()
    if missing:
        pytest.fail("the client parsers are not installed (.ci/run installs them): " + "; ".join(missing),
                    pytrace=False)
    folder = tmp_path_factory.mktemp("clients")
    shutil.copy(EXAMPLE.with_name("contacts-log.yaml"), folder / "contacts-log.yaml")
    example = EXAMPLE.read_text(encoding="utf-8")
    plain = folder / "team.yaml"
    plain.write_text(example, encoding="utf-8")

    dav_server = CalDAVTarget(radicale_server, "client-parsers")
    home = dav_server.principal_url if dav_server.principal_url.endswith("/") else dav_server.principal_url + "/"
    prefix = f"parsers-{uuid.uuid4().hex[:6]}-"       # the server is shared by the whole session
    dav_folder = folder / "dav"
    dav_folder.mkdir()
    shutil.copy(folder / "contacts-log.yaml", dav_folder / "contacts-log.yaml")
    dav_config = dav_folder / "team.yaml"
    dav_config.write_text(_dav_config(example, home + prefix, radicale_server.username), encoding="utf-8")
    for person in _team(example, folder).people:
        dav_server.principal.make_calendar(name=f"ks {person}", cal_id=f"{prefix}{person}")

    result = Collected()
    out = folder / "out"
    invites = InviteState(folder / "invites.sqlite")
    # uid -> every version of it the calendars were meant to show in any month: a CalDAV
    # calendar keeps an event as it was last written once it is past, a file or feed shows
    # the recent past as planned then (without its alarm).
    versions: dict[str, list[dict]] = {}
    try:
        for today in MONTHS:
            day = today.isoformat()
            team = _team(example, folder)
            shown = calendar_plan(team, today)
            for event in [*shown.events, *(shown.past.events if shown.past else ())]:
                version = _expected(event.start, event.end, event.all_day, event.alarm)
                if version not in versions.setdefault(event.uid, []):
                    versions[event.uid].append(version)
                result.event_kinds.add(event.kind)
                result.event_kinds.update({"all-day"} if event.all_day else set())
                result.event_kinds.update({"alarm"} if event.alarm and not event.all_day else set())
            truth = versions

            began = time.perf_counter()
            run = run_in_process("export", "--config", str(plain), "--today", day, "--out", str(out))
            assert run.returncode == 0, run.stderr
            for path in sorted(out.glob("*.ics")):
                result.add("file", f"{day} file {path.name}", path.read_text(encoding="utf-8"), truth)
            result.seconds["export"] = result.seconds.get("export", 0) + time.perf_counter() - began

            began = time.perf_counter()
            feeds = FeedPlans(plain, today)
            for person in team.people:
                body = feeds.feed(person)
                assert body is not None, person
                result.add("feed", f"{day} feed {person}", body.decode("utf-8"), truth)
            result.seconds["feeds"] = result.seconds.get("feeds", 0) + time.perf_counter() - began

            began = time.perf_counter()
            run = run_in_process("sync", "--config", str(dav_config), "--today", day,
                                 env={PASSWORD_ENV: PASSWORD})
            assert run.returncode == 0, run.stdout + run.stderr
            result.seconds["sync"] = result.seconds.get("sync", 0) + time.perf_counter() - began
            began = time.perf_counter()
            for person in team.people:
                for href, text in _report(f"{home}{prefix}{person}/"):
                    result.add("caldav", f"{day} caldav {href}", text, truth)
            result.seconds["report"] = result.seconds.get("report", 0) + time.perf_counter() - began

            began = time.perf_counter()
            mail_team = _team(example + MAIL, folder)
            stamp = stamp_for(today)
            zones = VTimezones()
            for index, mail in enumerate(plan_mails(plan(mail_team, today).events, mail_team,
                                                    invites.load(), today).mails):
                message = email.message_from_bytes(bytes(build_message(mail, mail_team.mail, stamp, zones)))
                parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
                assert len(parts) == 1
                expected = {mail.uid: [_expected(mail.start, mail.end, mail.all_day, None)]}
                result.add("mail", f"{day} mail {index} {mail.method} {mail.uid} to {mail.to.email}",
                           parts[0].get_payload(decode=True).decode("utf-8"), expected)
                invites.record(mail, stamp.isoformat())
            result.seconds["mail"] = result.seconds.get("mail", 0) + time.perf_counter() - began
    finally:
        invites.close()
        dav_server.close()
    return result


# -- the check ----------------------------------------------------------------------------------

def discrepancies(collected: Collected, parsed: dict[str, dict[str, dict]]) -> list[tuple[str, str, str]]:
    """(parser or 'zoneinfo', text name, what differs) for every VEVENT reading that differs
    from the planned instants, and every text a parser cannot read."""
    found = []
    fields = ("start", "end", "all_day", "alarms")
    for name, _ in collected.texts:
        truth = collected.truth[name]
        readings = {}
        for parser in PARSERS:
            item = parsed[parser][name]
            if item["error"]:
                found.append((parser, name, f"cannot read it: {item['error'][:300]}"))
                continue
            readings[parser] = {(e["uid"], e["recurrence_id"]): e for e in item["events"]}
        keys = set().union(*(set(r) for r in readings.values())) if readings else set()
        for key in sorted(keys, key=str):
            uid = key[0]
            planned = truth.get(uid)
            if not planned:
                found.append(("zoneinfo", name, f"{uid}: not a planned event"))
                continue
            for parser, events in readings.items():
                event = events.get(key)
                if event is None:
                    found.append((parser, name, f"{uid}: missing"))
                    continue
                if any(all(event[f] == version[f] for f in fields) for version in planned):
                    continue
                closest = min(planned, key=lambda version: sum(event[f] != version[f] for f in fields))
                wrong = [f"{f} {event[f]} instead of {closest[f]}" for f in fields if event[f] != closest[f]]
                found.append((parser, name, f"{uid}: {'; '.join(wrong)}"))
    return found


def _show(request, line: str) -> None:
    """The figures in the test run's output (CI's log), also when the test passes."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        print(line)
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        reporter.write_line(line)


@pytest.fixture(scope="module")
def parsed(collected):
    return read_with_every_parser(collected.texts, collected.seconds)


def test_the_artefacts_cover_every_kind_of_event_and_every_channel(collected):
    kinds = {collected.kind_of[name] for name, _ in collected.texts}
    assert kinds == {"file", "feed", "caldav", "mail"}
    assert {"contact", "aftercare", "session", "meeting", "prepare", "report_back",
            "all-day", "alarm"} <= collected.event_kinds
    per_kind = {k: sum(1 for n, _ in collected.texts if collected.kind_of[n] == k) for k in sorted(kinds)}
    assert per_kind["file"] == per_kind["feed"] == 5 * len(MONTHS)
    assert per_kind["caldav"] > 500 and per_kind["mail"] > 20
    # The months before the last Sunday of March are where a late-starting VTIMEZONE shows.
    early = [n for n, t in collected.texts if any(f"DTSTART;TZID=Europe/Amsterdam:20270{m}" in t for m in "123")]
    assert {collected.kind_of[n] for n in early} == {"file", "feed", "caldav", "mail"}


def test_every_event_has_the_same_instants_in_every_client_parser_and_in_zoneinfo(collected, parsed, request):
    found = discrepancies(collected, parsed)
    events = sum(len(parsed["ical.js"][name]["events"]) for name, _ in collected.texts)
    distinct = len({text for _, text in collected.texts})
    per_parser = {parser: sum(1 for p, _, _ in found if p == parser) for parser in (*PARSERS, "zoneinfo")}
    per_kind, differ_in = {}, {}
    for name, _ in collected.texts:
        per_kind[collected.kind_of[name]] = per_kind.get(collected.kind_of[name], 0) + 1
    for _, name, _ in found:
        differ_in[collected.kind_of[name]] = differ_in.get(collected.kind_of[name], 0) + 1
    summary = (f"client parsers: {len(collected.texts)} texts ({', '.join(f'{v} {k}' for k, v in sorted(per_kind.items()))}), "
               f"{distinct} distinct, {events} VEVENTs, parsers {', '.join(PARSERS)}, {len(found)} VEVENT readings differ "
               f"({', '.join(f'{p} {n}' for p, n in per_parser.items())}; "
               f"in {', '.join(f'{k} {differ_in.get(k, 0)}' for k in sorted(per_kind))}); seconds: "
               f"{', '.join(f'{k} {v:.1f}' for k, v in collected.seconds.items())}")
    _show(request, summary)
    request.node.user_properties.append(("client_parsers", summary))
    assert events > 2000
    shown = "\n".join(f"  {parser}: {name}: {what}" for parser, name, what in found[:25])
    assert not found, f"{summary}\n{shown}"
