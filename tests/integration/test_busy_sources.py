"""Reading the calendars busy times come from (targets/busysources.py), against real servers:
Radicale and Xandikos for CalDAV (both query paths), a loopback HTTP server for published .ics
calendars, and local files. Only what is fetched is checked here (objects, replies, requests,
failures); what is busy in them is core/busy.py's business.

Times: the window is November 2026 in Europe/Amsterdam (CET, UTC+1)."""
from __future__ import annotations

import json
import socket
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import pytest

from kalender_sync.core.timezones import vtimezone
from kalender_sync.targets.busysources import (READ_AHEAD, BusyCache, BusyRequest, http_location,
                                               read_busy_sources)
from kalender_sync.targets.network import RequestLog, RetryPolicy
from support import servers
from support.proxies import FaultProxy
from support.publishedcalendars import PublishedCalendars, Route

pytestmark = pytest.mark.integration

ZONE = ZoneInfo("Europe/Amsterdam")
START = datetime(2026, 11, 2, tzinfo=ZONE)
END = datetime(2026, 12, 1, tzinfo=ZONE)
FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02)
PASSWORD = "pw-Zq8-never-shown"          # what must never appear in a failure
SECRET = "d41d8cd98f00b204e9800998ecf8427e"   # the token in a published calendar's path


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


# ------------------------------------------------------------------------------ calendars

def vcalendar(*events: icalendar.Event) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//kalender-sync tests//busy sources//EN")
    calendar.add("version", "2.0")
    # Our own VTIMEZONE, not icalendar's add_missing_timezones(): Radicale (vobject 0.9.9) misreads
    # that one's RDATE list in summer and keeps the first VTIMEZONE it parsed per TZID for the whole
    # process, so it would shift other tests' free-busy answers on the shared server by an hour.
    calendar.add_component(vtimezone("Europe/Amsterdam", datetime(2026, 1, 1, tzinfo=ZONE),
                                     datetime(2027, 12, 31, tzinfo=ZONE)))
    for event in events:
        calendar.add_component(event)
    return calendar.to_ical()


def vevent(uid: str, start, end, summary: str, **properties) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", utc(2026, 10, 1))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", summary)
    for name, value in properties.items():
        event.add(name.replace("_", "-"), value)
    return event


def at(day: int, hour: int, minute: int = 0, month: int = 11, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZONE)


WEEKLY = vcalendar(
    vevent("busy-weekly", at(3, 10), at(3, 11), "Teamoverleg", rrule={"freq": "weekly", "count": 8},
           exdate=at(10, 10)),
    vevent("busy-weekly", at(17, 14), at(17, 15), "Teamoverleg (verzet)", recurrence_id=at(17, 10)))
ALL_DAY = vcalendar(vevent("busy-allday", date(2026, 11, 20), date(2026, 11, 21), "Afwezig",
                           x_microsoft_cdo_busystatus="OOF"))
TRANSPARENT = vcalendar(vevent("busy-transparent", at(5, 9), at(5, 17), "Thuiswerken", transp="TRANSPARENT"))
SINGLE = vcalendar(vevent("busy-single", at(12, 13), at(12, 14, 30), "Klant"))
PAST = vcalendar(vevent("busy-past", at(1, 10, month=9), at(1, 11, month=9), "Voorbij"))
# floating (no zone): 23:30 on the window's last day, which a server reading it as UTC puts past the end
FLOATING = vcalendar(vevent("busy-floating", datetime(2026, 11, 30, 23, 30), datetime(2026, 11, 30, 23, 45), "Laat"))
LATER = vcalendar(vevent("busy-later", at(1, 10, month=6, year=2027), at(1, 11, month=6, year=2027), "Later"))
OBJECTS = {"weekly": WEEKLY, "allday": ALL_DAY, "transparent": TRANSPARENT, "single": SINGLE, "past": PAST,
           "later": LATER, "floating": FLOATING}
IN_WINDOW = {"busy-weekly", "busy-allday", "busy-transparent", "busy-single", "busy-floating"}
# By hand, in UTC: the weekly meeting at 09:00Z, but not 10 Nov (EXDATE), 17 Nov moved to 13:00Z, 1 Dec
# after the window; the customer 12:00-13:30Z; the all-day event as the UTC day (both servers read a
# date as UTC); the transparent event not at all, nor the floating one (23:30Z is past the end).
FREEBUSY = {(utc(2026, 11, 3, 9), utc(2026, 11, 3, 10), "BUSY"), (utc(2026, 11, 17, 13), utc(2026, 11, 17, 14), "BUSY"),
            (utc(2026, 11, 24, 9), utc(2026, 11, 24, 10), "BUSY"),
            (utc(2026, 11, 12, 12), utc(2026, 11, 12, 13, 30), "BUSY"),
            (utc(2026, 11, 20), utc(2026, 11, 21), "BUSY")}


def uids(fetched) -> set[str]:
    found = set()
    for text in fetched.texts:
        found |= {str(event["UID"]) for event in icalendar.Calendar.from_ical(text).walk("VEVENT")}
    return found


def periods(reply: bytes) -> set[tuple]:
    calendar = icalendar.Calendar.from_ical(reply)
    (freebusy,) = calendar.walk("VFREEBUSY")
    values = freebusy.get("FREEBUSY", [])
    found = set()
    for value in values if isinstance(values, list) else [values]:
        start, end = value.dt
        end = start + end if isinstance(end, timedelta) else end
        found.add((start.astimezone(timezone.utc), end.astimezone(timezone.utc), value.params.get("FBTYPE", "BUSY")))
    return found


def auth_headers(extra: dict | None = None) -> dict:
    return {"Authorization": servers.basic_auth(), **(extra or {})}


def put(url: str, body: bytes) -> None:
    reply = servers.http_request("PUT", url, body, auth_headers({"Content-Type": "text/calendar; charset=utf-8",
                                                                  "If-None-Match": "*"}))
    assert reply.status in (201, 204), (url, reply.status, reply.body[:300])


def delete(url: str) -> None:
    reply = servers.http_request("DELETE", url, None, auth_headers())
    assert reply.status in (200, 204), (url, reply.status)


@pytest.fixture(params=["radicale", "xandikos"])
def server(request):
    pytest.importorskip("caldav", reason="CalDAV tests need the 'caldav' package")
    return request.getfixturevalue(f"{request.param}_server")


@pytest.fixture
def calendar_url(server):
    """A fresh calendar on `server` holding OBJECTS, one object per file."""
    url = server.new_calendar(f"busy-{uuid.uuid4().hex[:8]}")
    for name, body in OBJECTS.items():
        put(url + f"{name}.ics", body)
    return url


def caldav(url: str, busy_query: str = "events", person: str = "hanna", source: str = "werk",
           username: str | None = servers.USERNAME, password: str | None = PASSWORD) -> BusyRequest:
    return BusyRequest(person, source, "caldav", url, username, password, busy_query)


def published(url: str, person: str = "kim", source: str = "outlook") -> BusyRequest:
    return BusyRequest(person, source, "url", url)


def read(requests, cache=None, **kwargs):
    reading = read_busy_sources(list(requests), START, END, cache=cache, **{"retry": FAST, **kwargs})
    # whatever the outcome, the cache is a JSON value that comes back as it was
    assert BusyCache.from_json(reading.cache.to_json()) == reading.cache
    return reading


# ------------------------------------------------------------------------------ CalDAV: events

def test_events_a_time_range_query_returns_the_objects_with_an_instance_in_the_window(calendar_url):
    reading = read([caldav(calendar_url)])
    assert reading.failures == {}
    assert reading.requests == 1
    (fetched,) = reading.fetched
    assert (fetched.person, fetched.source, fetched.kind) == ("hanna", "werk", "events")
    assert uids(fetched) == IN_WINDOW
    # the recurring object comes whole: the rule, its exception and its moved occurrence
    (weekly,) = [text for text in fetched.texts if b"busy-weekly" in text]
    events = icalendar.Calendar.from_ical(weekly).walk("VEVENT")
    assert len(events) == 2 and any("RECURRENCE-ID" in e for e in events) and any("EXDATE" in e for e in events)
    assert all(text.lstrip().startswith(b"BEGIN:VCALENDAR") for text in fetched.texts)


def test_events_incremental_reads_fetch_only_what_changed_and_give_the_same_set(calendar_url):
    first = read([caldav(calendar_url)], cache=BusyCache())
    assert first.failures == {}
    assert first.requests == 2                    # the sync-token (PROPFIND), then the time-range query
    cache = BusyCache.from_json(first.cache.to_json())   # as storage would keep it between runs

    again = read([caldav(calendar_url)], cache=cache)
    assert again.requests == 1                    # one sync-collection: nothing changed
    assert again.fetched == first.fetched

    put(calendar_url + "added.ics", vcalendar(vevent("busy-added", at(26, 9), at(26, 10), "Nieuw")))
    delete(calendar_url + "single.ics")
    changed = read([caldav(calendar_url)], cache=again.cache)
    # the sync-collection, and on Xandikos (no calendar-data in a sync reply) one multiget
    assert changed.requests <= 2
    assert uids(changed.fetched[0]) == IN_WINDOW - {"busy-single"} | {"busy-added"}

    settled = read([caldav(calendar_url)], cache=changed.cache)
    assert settled.requests == 1 and settled.fetched == changed.fetched


def test_events_a_changed_object_outside_the_window_is_fetched_and_left_to_the_rules(calendar_url):
    """A sync-collection does not filter by time: the past event moved into the window must be seen."""
    first = read([caldav(calendar_url)], cache=BusyCache())
    assert "busy-past" not in uids(first.fetched[0])
    past = servers.http_request("GET", calendar_url + "past.ics", None, auth_headers())
    moved = icalendar.Calendar.from_ical(past.body)
    for event in moved.walk("VEVENT"):
        event["DTSTART"] = icalendar.vDDDTypes(at(25, 15))
        event["DTEND"] = icalendar.vDDDTypes(at(25, 16))
    reply = servers.http_request("PUT", calendar_url + "past.ics", moved.to_ical(), auth_headers({
        "Content-Type": "text/calendar; charset=utf-8", "If-Match": past.headers["etag"]}))
    assert reply.status in (200, 201, 204)
    second = read([caldav(calendar_url)], cache=first.cache)
    assert second.requests <= 2
    assert uids(second.fetched[0]) == IN_WINDOW | {"busy-past"}


def test_events_an_invalid_sync_token_falls_back_to_a_full_query(calendar_url):
    first = read([caldav(calendar_url)], cache=BusyCache())
    (entry,) = first.cache.entries.values()
    entry["token"] = entry["token"][:-6] + "000000"
    entry["objects"].pop(next(iter(entry["objects"])))     # a cache that would be wrong if it were used
    second = read([caldav(calendar_url)], cache=first.cache)
    assert second.failures == {}
    assert second.requests == 3                   # the refused sync, the token, the query
    assert second.fetched == first.fetched


def test_events_a_window_past_the_one_read_ahead_is_read_afresh(calendar_url):
    """The cached objects cover the window read (with READ_AHEAD); a later window needs a new query,
    or an unchanged event further ahead ('later', June 2027) would never be seen."""
    first = read([caldav(calendar_url)], cache=BusyCache())
    assert "busy-later" not in uids(first.fetched[0])
    later_start, later_end = START + timedelta(days=200), END + timedelta(days=200)
    assert later_end > END + READ_AHEAD
    second = read_busy_sources([caldav(calendar_url)], later_start, later_end, cache=first.cache, retry=FAST)
    assert second.requests == 2
    assert uids(second.fetched[0]) == {"busy-later"}
    inside = read_busy_sources([caldav(calendar_url)], START + timedelta(days=7), END + timedelta(days=7),
                               cache=first.cache, retry=FAST)
    assert inside.requests == 1 and uids(inside.fetched[0]) == IN_WINDOW


# ------------------------------------------------------------------------------ CalDAV: free-busy

def test_freebusy_the_reply_is_one_vfreebusy_with_the_busy_periods(calendar_url):
    reading = read([caldav(calendar_url, "freebusy")])
    assert reading.failures == {}
    assert reading.requests == 1
    (fetched,) = reading.fetched
    assert fetched.kind == "freebusy" and len(fetched.texts) == 1
    assert periods(fetched.texts[0]) == FREEBUSY


def test_freebusy_is_not_cached_and_reads_the_server_each_time(calendar_url):
    first = read([caldav(calendar_url, "freebusy")], cache=BusyCache())
    put(calendar_url + "added.ics", vcalendar(vevent("busy-added", at(26, 9), at(26, 10), "Nieuw")))
    second = read([caldav(calendar_url, "freebusy")], cache=first.cache)
    assert (first.requests, second.requests) == (1, 1)
    assert periods(second.fetched[0].texts[0]) == FREEBUSY | {(utc(2026, 11, 26, 8), utc(2026, 11, 26, 9), "BUSY")}


# ------------------------------------------------------------------------------ published calendars

OUTLOOK = vcalendar(vevent("outlook-1", at(4, 9), at(4, 10), "Overleg", x_microsoft_cdo_busystatus="BUSY"))


@pytest.fixture
def site():
    with PublishedCalendars() as running:
        yield running


@pytest.mark.parametrize("validator", ["etag", "last-modified"])
def test_published_a_second_read_is_answered_304_from_the_cache(site, validator):
    path = f"/owa/calendar/{SECRET}/kim/calendar.ics"
    site.routes[path] = Route(OUTLOOK, etag=validator == "etag",
                              last_modified="Tue, 01 Sep 2026 10:00:00 GMT" if validator == "last-modified" else None)
    first = read([published(site.url(path))], cache=BusyCache())
    assert first.failures == {} and first.requests == 1
    assert first.fetched[0].texts == (OUTLOOK,) and first.fetched[0].kind == "events"
    assert SECRET not in first.cache.to_json().decode()      # the cache is keyed by a digest, not the URL

    second = read([published(site.url(path))], cache=first.cache)
    assert second.requests == 1 and second.fetched == first.fetched
    sent = site.requests_to(path)[-1].headers
    if validator == "etag":
        assert sent["if-none-match"] == f'"{__import__("hashlib").sha256(OUTLOOK).hexdigest()[:16]}"'
    else:
        assert sent["if-modified-since"] == "Tue, 01 Sep 2026 10:00:00 GMT"

    changed = vcalendar(vevent("outlook-2", at(6, 9), at(6, 10), "Anders"))
    site.routes[path] = Route(changed, last_modified="Wed, 02 Sep 2026 10:00:00 GMT")
    third = read([published(site.url(path))], cache=second.cache)
    assert third.fetched[0].texts == (changed,)


def test_published_without_a_cache_sends_no_validators(site):
    site.routes["/cal.ics"] = Route(OUTLOOK)
    read([published(site.url("/cal.ics"))])
    read([published(site.url("/cal.ics"))])
    assert [seen.headers.get("if-none-match") for seen in site.requests_to("/cal.ics")] == [None, None]


def test_published_a_damaged_cache_body_is_not_trusted(site):
    site.routes["/cal.ics"] = Route(OUTLOOK)
    first = read([published(site.url("/cal.ics"))], cache=BusyCache())
    (entry,) = first.cache.entries.values()
    entry["body"] = entry["body"].replace("Overleg", "Vrij")
    second = read([published(site.url("/cal.ics"))], cache=first.cache)
    assert second.fetched[0].texts == (OUTLOOK,)
    assert site.requests_to("/cal.ics")[-1].headers.get("if-none-match") is None


def test_webcal_is_read_as_https(site):
    assert http_location("webcal://example.nl/a/b.ics?x=1") == "https://example.nl/a/b.ics?x=1"
    assert http_location("http://example.nl/b.ics") == "http://example.nl/b.ics"
    site.routes[f"/{SECRET}/calendar.ics"] = Route(OUTLOOK)
    reading = read([published(site.url(f"/{SECRET}/calendar.ics", scheme="webcal"))])
    # the loopback server speaks plain HTTP: a TLS handshake with it fails, which shows https was used
    assert reading.failures == {"kim": f"outlook (webcal://127.0.0.1:{site.port}/…): TLS connection failed "
                                       f"after {FAST.attempts} attempts"}


def test_a_file_url_reads_the_file(tmp_path):
    path = tmp_path / "agenda met spatie.ics"
    path.write_bytes(OUTLOOK)
    reading = read([published(path.as_uri())])
    assert reading.failures == {} and reading.requests == 0
    assert reading.fetched[0].texts == (OUTLOOK,)
    missing = read([published((tmp_path / "weg.ics").as_uri())])
    assert missing.failures == {"kim": f"outlook ({(tmp_path / 'weg.ics').as_uri()}): no such file"}
    (tmp_path / "notes.ics").write_text("hello", encoding="utf-8")
    garbage = read([published((tmp_path / "notes.ics").as_uri())])
    assert garbage.failures["kim"].endswith("notes.ics): the file is not an iCalendar file")


# ------------------------------------------------------------------------------ failures



@pytest.mark.parametrize("busy_query", ["events", "freebusy"])
def test_a_refused_login_is_a_failure_without_the_password(radicale_with_login, busy_query):
    url = radicale_with_login.new_calendar(f"login-{uuid.uuid4().hex[:8]}")
    good = read([caldav(url, busy_query, password=servers.PASSWORD)])
    assert good.failures == {}, good.failures
    wrong = read([caldav(url, busy_query, password=PASSWORD)], cache=BusyCache())
    shown = url
    assert wrong.failures == {"hanna": f"werk ({shown}): 401 Unauthorized"}
    assert wrong.fetched == [] and wrong.requests == 1
    nobody = read([caldav(url, busy_query, username=None, password=None)])
    assert nobody.failures == {"hanna": f"werk ({shown}): 401 Unauthorized (the calendar has no username)"}
    assert PASSWORD not in repr(caldav(url, password=PASSWORD))


@pytest.mark.parametrize("busy_query", ["events", "freebusy"])
def test_a_missing_calendar_is_a_404_failure(server, busy_query):
    url = f"{server.url.rstrip('/')}{server.home}no-such-calendar-{uuid.uuid4().hex[:6]}/"
    for cache in (None, BusyCache()):
        reading = read([caldav(url, busy_query)], cache=cache)
        assert reading.failures == {"hanna": f"werk ({url}): 404 Not Found"}
        assert reading.fetched == []


def test_a_closed_port_is_a_failure_naming_each_source(tmp_path):
    port = servers.free_port()
    requests = [caldav(f"http://{servers.USERNAME}:{PASSWORD}@127.0.0.1:{port}/alice/werk/?token={SECRET}"),
                published(f"http://127.0.0.1:{port}/{SECRET}/calendar.ics", person="hanna"),
                published(f"https://127.0.0.1:{port}/{SECRET}/calendar.ics?key={SECRET}", person="kim")]
    reading = read(requests)
    assert reading.failures == {
        "hanna": f"werk (http://127.0.0.1:{port}/alice/werk/): connection refused after {FAST.attempts} attempts; "
                 f"outlook (http://127.0.0.1:{port}/…): connection refused after {FAST.attempts} attempts",
        "kim": f"outlook (https://127.0.0.1:{port}/…): connection refused after {FAST.attempts} attempts"}
    assert PASSWORD not in json.dumps(reading.failures) and SECRET not in json.dumps(reading.failures)


@pytest.mark.parametrize("location,shown,reason", [
    ("http://127.0.0.1:port/alice/werk/", "an unreadable URL", "not a URL that can be read"),
    ("ftp://127.0.0.1/alice/werk/", "ftp://127.0.0.1/alice/werk/", "not a URL that can be read"),
])
def test_a_url_that_cannot_be_read_is_a_failure(location, shown, reason):
    reading = read([caldav(location)])
    assert reading.failures == {"hanna": f"werk ({shown}): {reason}"}


def test_a_stopped_server_fails_fast_for_everyone_on_it(tmp_path):
    """After one source on a dead server has used up its retries, the others on it are not tried again."""
    dead = servers.start("radicale", tmp_path / "dead")
    url = dead.new_calendar("werk")
    dead.stop()
    people = [f"p{index:02}" for index in range(50)]
    started = time.monotonic()
    reading = read([caldav(url.replace("/werk/", f"/werk-{p}/"), person=p) for p in people], jobs=8)
    assert time.monotonic() - started < 10
    assert set(reading.failures) == set(people) and reading.fetched == []
    assert all("connection refused" in reason for reason in reading.failures.values())
    assert reading.requests <= 8 * FAST.attempts


def test_a_server_that_does_not_answer_times_out():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)            # accepts connections and never answers
        port = listener.getsockname()[1]
        started = time.monotonic()
        reading = read([caldav(f"http://127.0.0.1:{port}/alice/werk/")], timeout=0.3,
                       retry=RetryPolicy(attempts=2, base_delay=0.01))
    assert reading.failures == {"hanna": f"werk (http://127.0.0.1:{port}/alice/werk/): no answer within 0.3 s "
                                         "after 2 attempts"}
    assert time.monotonic() - started < 5


def test_server_errors_are_retried_then_reported(site):
    site.routes["/down.ics"] = Route(b"oops", status=503, content_type="text/plain")
    reading = read([published(site.url("/down.ics"))])
    assert reading.failures == {"kim": f"outlook (http://127.0.0.1:{site.port}/…): 503 Service Unavailable "
                                       f"after {FAST.attempts} attempts"}
    assert reading.requests == FAST.attempts == len(site.requests_to("/down.ics"))


def test_transient_faults_are_ridden_out(server):
    """A proxy that answers 500 to a third of the requests: every calendar is still read."""
    urls = []
    for index in range(6):
        url = server.new_calendar(f"faulty-{uuid.uuid4().hex[:6]}-{index}")
        put(url + "single.ics", SINGLE)
        urls.append(url)
    with FaultProxy(server.url, rate=0.35, seed=12, faults=("error500", "reset_before")) as proxy:
        requests = [caldav(proxy.translate(url), busy_query, person=f"p{index}")
                    for index, url in enumerate(urls) for busy_query in ("events",)]
        reading = read(requests, jobs=1, retry=RetryPolicy(attempts=6, base_delay=0.01, max_delay=0.02))
        assert sum(proxy.injected.values()) > 0
        assert reading.requests == sum(proxy.counts.values())
    assert reading.failures == {}
    assert all(uids(fetched) == {"busy-single"} for fetched in reading.fetched)


@pytest.mark.parametrize("what,route,reason", [
    ("html login page", Route(b"<html><body>Sign in</body></html>", content_type="text/html; charset=utf-8"),
     "the answer is not an iCalendar text (text/html)"),
    ("not found", Route(b"gone", status=404, content_type="text/plain"), "404 Not Found"),
    ("login wanted", Route(b"", status=401, content_type="text/plain"), "401 Unauthorized"),
    ("empty", Route(b""), "the answer is not an iCalendar text (text/calendar)"),
])
def test_a_published_calendar_that_is_not_one_is_a_failure(site, what, route, reason):
    path = f"/calendar/published/{SECRET}/reachcalendar.ics"
    site.routes[path] = route
    reading = read([published(site.url(path) + f"?secret={SECRET}")], cache=BusyCache())
    assert reading.failures == {"kim": f"outlook (http://127.0.0.1:{site.port}/…): {reason}"}
    assert reading.cache.entries == {}


@pytest.mark.parametrize("busy_query,route,reason", [
    ("events", Route(b"<html>Proxy says hi</html>", content_type="text/html"), "the answer is not a WebDAV reply"),
    ("events", Route(b"<oops", status=207, content_type="application/xml"), "the answer is not a WebDAV reply"),
    ("freebusy", Route(b"<html>Proxy says hi</html>", content_type="text/html"),
     "the answer is not a free-busy reply (no VCALENDAR)"),
    # Radicale before 3.8.2: one VFREEBUSY per occurrence
    ("freebusy", Route(b"BEGIN:VCALENDAR\r\nBEGIN:VFREEBUSY\r\nEND:VFREEBUSY\r\nBEGIN:VFREEBUSY\r\nEND:VFREEBUSY\r\n"
                       b"END:VCALENDAR\r\n"),
     "the answer is not an RFC 4791 free-busy reply (2 VFREEBUSY components)"),
    ("freebusy", Route(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"),
     "the answer is not an RFC 4791 free-busy reply (0 VFREEBUSY components)"),
])
def test_a_caldav_server_answering_garbage_is_a_failure(site, busy_query, route, reason):
    site.fallback = lambda path: route
    url = site.url("/alice/werk/")
    for cache in (None, BusyCache()):
        reading = read([caldav(url, busy_query)], cache=cache)
        assert reading.failures == {"hanna": f"werk ({url}): {reason}"}


# ------------------------------------------------------------------------------ many people

def test_fifty_people_are_read_in_parallel_on_one_connection_per_worker(site):
    site.fallback = lambda path: Route(vcalendar(vevent(f"uid-{path}", at(4, 9), at(4, 10), "Overleg")),
                                       delay=0.02) if path.endswith("/calendar.ics") else None
    people = [f"p{index:02}" for index in range(50)]
    started = time.monotonic()
    reading = read([published(site.url(f"/{SECRET}/{p}/calendar.ics"), person=p) for p in people], jobs=8)
    elapsed = time.monotonic() - started
    assert reading.failures == {} and [f.person for f in reading.fetched] == people
    assert reading.requests == 50 == len(site.seen)
    assert 1 < site.most_in_flight <= 8
    assert site.connections <= 8
    assert elapsed < 50 * 0.02


def test_fifty_people_on_xandikos_first_and_incremental(xandikos_server):
    people = [f"p{index:02}" for index in range(50)]
    run = uuid.uuid4().hex[:6]
    urls = {}
    for person in people:
        urls[person] = xandikos_server.new_calendar(f"many-{run}-{person}")
        put(urls[person] + "single.ics", SINGLE)
        put(urls[person] + "weekly.ics", WEEKLY)
    requests = [caldav(urls[p], person=p) for p in people]
    log = RequestLog()
    started = time.monotonic()
    first = read(requests, cache=BusyCache(), jobs=8, log=log)
    first_seconds = time.monotonic() - started
    assert first.failures == {} and len(first.fetched) == 50
    assert first.requests == 100 == sum(log.counts.values())
    assert log.counts == {"PROPFIND": 50, "REPORT": 50}
    started = time.monotonic()
    second = read(requests, cache=first.cache, jobs=8)
    second_seconds = time.monotonic() - started
    assert second.requests == 50 and second.fetched == first.fetched
    assert all(uids(f) == {"busy-single", "busy-weekly"} for f in second.fetched)
    print(f"50 people on Xandikos, jobs=8: first {first.requests} requests {first_seconds:.2f} s, "
          f"incremental {second.requests} requests {second_seconds:.2f} s")


def test_a_calendar_shared_by_several_people_is_read_once(calendar_url):
    reading = read([caldav(calendar_url, person=p) for p in ("anna", "bram", "carla")], jobs=8)
    assert reading.requests == 1
    assert [f.person for f in reading.fetched] == ["anna", "bram", "carla"]
    assert len({f.texts for f in reading.fetched}) == 1


def test_an_unreadable_cache_is_an_empty_one():
    assert BusyCache.from_json(b"{not json") == BusyCache()
    assert BusyCache.from_json(b'{"version": 99, "entries": {}}') == BusyCache()
    assert BusyCache.from_json(b"[]") == BusyCache()


# ------------------------------------------------------------------------------ read, then the rules

def _upload(url: str, objects: tuple[bytes, ...]) -> None:
    for index, body in enumerate(objects):
        put(url + f"object-{index}.ics", body)


@pytest.mark.parametrize("cached", [False, True], ids=["query", "cached"])
def test_what_is_read_from_caldav_gives_the_busy_times_worked_out_by_hand(server, cached):
    """busyfixtures' calendars uploaded to a real server, read back and read by the rules: the busy
    times worked out by hand (events path), and the server's own answer (free-busy path)."""
    import busyfixtures as fx
    from kalender_sync.core.busy import busy_times
    hanna = server.new_calendar(f"hanna-{uuid.uuid4().hex[:8]}")
    bram = server.new_calendar(f"bram-{uuid.uuid4().hex[:8]}")
    _upload(hanna, fx.HANNA_WERK)
    _upload(bram, fx.BRAM_NETWERK)
    requests = [caldav(hanna, "events", person="hanna"), caldav(bram, "freebusy", person="bram"),
                caldav(bram, "events", person="bram", source="netwerk")]
    cache = BusyCache() if cached else None
    for _ in range(2 if cached else 1):          # the second time from the cache and a sync-collection
        reading = read_busy_sources(requests, fx.START, fx.END, cache=cache, retry=FAST)
        assert reading.failures == {}
        cache = reading.cache if cached else None
        found = {(f.person, f.source): busy_times(f, email=fx.EMAILS[f.person], own_uids=fx.OWN_UIDS,
                                                  start=fx.START, end=fx.END, zone=fx.ZONE)
                 for f in reading.fetched}
        reply = "BRAM_XANDIKOS_REPLY" if server.kind == "xandikos" else "BRAM_RADICALE_REPLY"
        assert found == {("hanna", "werk"): fx.expected("HANNA_WERK", "werk"),
                         ("bram", "werk"): fx.expected(reply, "werk"),
                         ("bram", "netwerk"): fx.expected("BRAM_NETWERK", "netwerk")}


def test_what_is_read_from_published_calendars_gives_the_busy_times_worked_out_by_hand(site):
    import busyfixtures as fx
    from kalender_sync.core.busy import busy_times
    site.routes[f"/owa/calendar/{SECRET}/kim/calendar.ics"] = Route(fx.KIM_OUTLOOK)
    site.routes[f"/calendar/ical/sanne%40example.nl/{SECRET}/basic.ics"] = Route(fx.SANNE_GOOGLE, etag=False)
    requests = [published(site.url(f"/owa/calendar/{SECRET}/kim/calendar.ics"), person="kim"),
                published(site.url(f"/calendar/ical/sanne%40example.nl/{SECRET}/basic.ics"), person="sanne",
                          source="google")]
    reading = read_busy_sources(requests, fx.START, fx.END, cache=BusyCache(), retry=FAST)
    assert reading.failures == {}
    found = {f.person: busy_times(f, email=fx.EMAILS[f.person], own_uids=fx.OWN_UIDS, start=fx.START,
                                  end=fx.END, zone=fx.ZONE) for f in reading.fetched}
    assert found == {"kim": fx.expected("KIM_OUTLOOK", "outlook"), "sanne": fx.expected("SANNE_GOOGLE", "google")}
