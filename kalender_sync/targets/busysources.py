"""Reading the calendars busy times come from: CalDAV collections, published calendars (.ics over
HTTP) and local files. Only the texts are fetched here; core/busy.py reads the busy times out of them.

- CalDAV, busy_query "events": a time-range calendar-query (RFC 4791 §7.8) returning whole objects,
  which the rules expand. With a cache, the collection's sync-token (RFC 6578) is kept with the
  objects that query returned (href -> etag, text); the next read asks sync-collection for what
  changed since and fetches only that. The cached set is every object that had an instance in the
  window read, plus every object changed since: a superset of what can matter, because an object
  that gains an instance in the window changes (new ETag) and so comes back through the sync. The
  window read is wider than asked for (READ_AHEAD), so that the daily runs, whose window ends a day
  later each day, stay incremental until they pass it; then one full query starts afresh. An invalid
  token falls back to the full query too.
- CalDAV, busy_query "freebusy": the free-busy-query REPORT (RFC 4791 §7.10); its reply is the text.
- url: a GET made conditional by the ETag / Last-Modified kept in the cache; 304 gives the cached
  body. webcal:// is read as https://. file:///path reads the file.

Reads run in parallel (a bounded pool), each worker with one keep-alive HTTP session, which holds a
connection per server. caldav's DAVClient is not used for the requests: it ties one login to one
client (and so one connection) per person, while one worker reads many people's calendars on the
same server; its XML elements and multistatus parser are used. Every request has the shared
timeout and transient-fault retries (targets/network.py).

A source that cannot be read never raises: it becomes the person's entry in `failures`, naming the
calendar and where it lives, without credentials, query strings or, for published calendars (whose
path is the secret: Outlook and Google put a token in it), the path.
"""
from __future__ import annotations

import base64
import hashlib
import http
import json
import re
import socket
import threading
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from caldav.elements import cdav, dav
from caldav.lib.http_sync import HTTPBasicAuth
from caldav.lib.http_sync import requests as http_library   # niquests, or requests where it is missing
from caldav.response import DAVResponse
from lxml import etree

from .. import __version__
from ..core.busy import SourceText
from .network import CALDAV_RETRY, NETWORK_TIMEOUT, RequestLog, RetryPolicy

# Servers test floating times and all-day dates against a time range in UTC or a zone of their own
# (Radicale: UTC), up to 14 hours off the team's zone; a day more on either side keeps those events
# in, and the rules clip to the window.
SLACK = timedelta(days=1)
# How far past the asked window a cached CalDAV read reaches, so that later runs (whose window ends
# later) can still be answered by a sync-collection; what lies beyond the window is clipped by the rules.
READ_AHEAD = timedelta(days=92)
# A multiget names this many objects at most.
MULTIGET_CHUNK = 500
# A truncated sync-collection reply (RFC 6578 §3.6) is continued at most this often.
MAX_SYNC_PAGES = 100

CACHE_VERSION = 1
_XML = "application/xml; charset=utf-8"
_FREEBUSY_COMPONENT = re.compile(rb"^BEGIN:VFREEBUSY\r?$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class BusyRequest:
    """One calendar to read for one person; credentials are already resolved."""

    person: str
    source: str                    # calendar id from the config
    kind: str                      # "caldav" | "url"
    location: str                  # URL with {person} filled in
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    busy_query: str = "events"     # caldav only: "events" | "freebusy"


@dataclass
class BusyCache:
    """What earlier reads left for the next one, per calendar: sync-tokens and objects (CalDAV),
    validators and bodies (published calendars). A JSON value; storage decides where it lives (it
    holds people's appointments: keep it private)."""

    entries: dict[str, dict] = field(default_factory=dict)

    def to_json(self) -> bytes:
        return json.dumps({"version": CACHE_VERSION, "entries": self.entries}, sort_keys=True,
                          ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes | str) -> "BusyCache":
        """A cache that cannot be read is an empty one: the next read is a full one, never a failure."""
        try:
            value = json.loads(data)
        except ValueError:
            return cls()
        if not isinstance(value, dict) or value.get("version") != CACHE_VERSION \
                or not isinstance(value.get("entries"), dict):
            return cls()
        return cls({key: entry for key, entry in value["entries"].items() if isinstance(entry, dict)})


@dataclass
class BusyReading:
    fetched: list[SourceText]
    failures: dict[str, str]       # person -> "werk (https://host/…): 401 Unauthorized"; several joined by "; "
    requests: int                  # HTTP requests made
    cache: BusyCache               # updated: the calendars read now; a failed one keeps its old entry


def read_busy_sources(requests: list[BusyRequest], start: datetime, end: datetime, *, cache: BusyCache | None,
                      jobs: int = 8, timeout: float = NETWORK_TIMEOUT, retry: RetryPolicy | None = None,
                      log: RequestLog | None = None, pool=None) -> BusyReading:
    """Fetch every requested calendar's texts for [start, end) (aware datetimes).

    `cache` None reads without remembering (a time-range query each time); with a cache, reads are
    incremental where the server allows. Calendars asked for by several people (a shared one, no
    {person} in its URL) are read once. `log`, if given, gets the requests counted per method.
    `pool`: the run's workers (an Executor) to read on, instead of `jobs` threads of its own.
    """
    if start.tzinfo is None or end.tzinfo is None or not start < end:
        raise ValueError("read_busy_sources needs aware datetimes with start < end")
    readings: dict[str, list[BusyRequest]] = {}
    for request in requests:
        readings.setdefault(_cache_key(request), []).append(request)
    old = cache.entries if cache is not None else {}
    sessions = _Sessions()
    breaker = _Breaker()
    retry = retry or CALDAV_RETRY

    def read_one(key: str) -> tuple[str, _Outcome]:
        request = readings[key][0]
        reader = _Reader(sessions.get(), timeout, retry, breaker)
        entry = old.get(key) if cache is not None else None
        try:
            texts, new_entry = _read(reader, request, start.astimezone(timezone.utc),
                                     end.astimezone(timezone.utc), entry, cache is not None)
        except _Unreadable as exc:
            return key, _Outcome(None, entry, str(exc), reader.counts)
        except Exception as exc:  # noqa: BLE001 - one odd source must not end the reading of all others
            return key, _Outcome(None, entry, f"could not be read ({type(exc).__name__})", reader.counts)
        return key, _Outcome(texts, new_entry, None, reader.counts)

    try:
        if len(readings) <= 1 or jobs <= 1:
            outcomes = dict(map(read_one, readings))
        elif pool is not None:
            outcomes = dict(pool.map(read_one, readings))
        else:
            with ThreadPoolExecutor(max_workers=min(jobs, len(readings)),
                                    thread_name_prefix="busy-read") as pool:
                outcomes = dict(pool.map(read_one, readings))
    finally:
        sessions.close()

    fetched: list[SourceText] = []
    failures: dict[str, list[str]] = {}
    counts = RequestLog()
    entries: dict[str, dict] = {}
    for key, outcome in outcomes.items():
        for method, count in outcome.counts.items():
            counts.counts[method] = counts.counts.get(method, 0) + count
        if outcome.entry is not None:
            entries[key] = outcome.entry
    for request in requests:
        outcome = outcomes[_cache_key(request)]
        if outcome.reason is not None:
            failures.setdefault(request.person, []).append(
                f"{request.source} ({shown_location(request)}): {outcome.reason}")
        else:
            kind = "freebusy" if request.kind == "caldav" and request.busy_query == "freebusy" else "events"
            fetched.append(SourceText(request.person, request.source, kind, outcome.texts))
    if log is not None:
        for method, count in counts.counts.items():
            log.counts[method] = log.counts.get(method, 0) + count
    return BusyReading(fetched, {person: "; ".join(reasons) for person, reasons in failures.items()},
                       sum(counts.counts.values()), BusyCache(entries) if cache is not None else BusyCache())


def shown_location(request: BusyRequest) -> str:
    """Where a calendar lives, as it may be shown: no user info, query or fragment, and for a
    published calendar no path (its secret)."""
    try:
        parts = urllib.parse.urlsplit(request.location)
        port = parts.port
    except ValueError:
        return "an unreadable URL"
    if parts.scheme == "file":
        return urllib.parse.urlunsplit(("file", "", parts.path, "", ""))
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if port:
        host = f"{host}:{port}"
    if request.kind == "url":
        return f"{parts.scheme}://{host}/…"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def http_location(location: str) -> str:
    """The URL a published calendar is fetched from: webcal:// is the subscription spelling of https://."""
    parts = urllib.parse.urlsplit(location)
    if parts.scheme.lower() in ("webcal", "webcals"):
        return urllib.parse.urlunsplit(("https",) + tuple(parts[1:]))
    return location


# ---------------------------------------------------------------------------------- plumbing

class _Unreadable(Exception):
    """This source cannot be read now; the message is the short reason shown to the user."""


class _InvalidToken(Exception):
    pass


@dataclass
class _Outcome:
    texts: tuple[bytes, ...] | None
    entry: dict | None
    reason: str | None
    counts: dict[str, int]


def _cache_key(request: BusyRequest) -> str:
    """Names a calendar in the cache without its URL, which may hold a secret."""
    ident = "\n".join((request.kind, request.location, request.username or "",
                       request.busy_query if request.kind == "caldav" else ""))
    return hashlib.sha256(ident.encode("utf-8")).hexdigest()


class _Sessions:
    """One HTTP session per worker thread, closed when the reading is done."""

    def __init__(self):
        self.local = threading.local()
        self.lock = threading.Lock()
        self.made: list = []

    def get(self):
        session = getattr(self.local, "session", None)
        if session is None:
            session = http_library.Session()
            session.headers["User-Agent"] = f"kalender-sync/{__version__}"
            self.local.session = session
            with self.lock:
                self.made.append(session)
        return session

    def close(self) -> None:
        for session in self.made:
            try:
                session.close()
            except Exception:  # noqa: BLE001 - closing a finished session must not fail the reading
                pass


class _Breaker:
    """A server that did not answer at all (refused, timed out, TLS, unknown host) after the retries
    is not asked again in this reading: with a thousand people on one server that is down, every
    further try would cost the full timeout and retries for the same answer."""

    def __init__(self):
        self.lock = threading.Lock()
        self.down: dict[str, str] = {}

    def reason(self, origin: str) -> str | None:
        with self.lock:
            return self.down.get(origin)

    def trip(self, origin: str, reason: str) -> None:
        with self.lock:
            self.down.setdefault(origin, reason)


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2].lower()}"


def _status(code: int) -> str:
    try:
        return f"{code} {http.HTTPStatus(code).phrase}"
    except ValueError:
        return f"HTTP {code}"


def _connection_reason(exc: BaseException) -> str:
    """A short reason for a request that got no HTTP answer. Never the exception's text: it names the
    URL, whose path may be a secret."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, socket.gaierror):
            return "host not found"
        todo.extend(e for e in (current.__cause__, current.__context__, getattr(current, "reason", None),
                                *current.args) if isinstance(e, BaseException))
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if "name or service not known" in text or "nodename nor servname" in text or "resolve" in text:
        return "host not found"
    return "connection failed"


class _Reader:
    """Sends one source's requests: counted, with the timeout and retries."""

    def __init__(self, session, timeout: float, retry: RetryPolicy, breaker: _Breaker):
        self.session = session
        self.timeout = timeout
        self.retry = retry
        self.breaker = breaker
        self.counts: dict[str, int] = {}

    def send(self, method: str, url: str, *, body: bytes | None = None, headers: dict | None = None,
             auth=None):
        errors = http_library.exceptions
        origin = _origin(url)
        pauses = self.retry.pauses()
        attempt = 0
        while True:
            down = self.breaker.reason(origin)
            if down is not None:
                raise _Unreadable(down)
            attempt += 1
            self.counts[method] = self.counts.get(method, 0) + 1
            connection_failure = True
            try:
                response = self.session.request(method, url, data=body, headers=headers, auth=auth,
                                                timeout=self.timeout)
            except errors.Timeout:
                reason = f"no answer within {self.timeout:g} s"
            except errors.SSLError:
                reason = "TLS connection failed"
            except errors.ConnectionError as exc:
                reason = _connection_reason(exc)
            except (errors.InvalidURL, errors.InvalidSchema, errors.MissingSchema):
                raise _Unreadable("not a URL that can be read") from None
            except errors.TooManyRedirects:
                raise _Unreadable("too many redirects") from None
            except errors.RequestException as exc:
                reason = f"request failed ({type(exc).__name__})"
            else:
                # a redirect followed is a request too
                for earlier in response.history or ():
                    self.counts[earlier.request.method] = self.counts.get(earlier.request.method, 0) + 1
                if response.status_code < 500 and response.status_code != 429:
                    return response
                reason = _status(response.status_code)
                connection_failure = False
            pause = next(pauses, None)
            if pause is None:
                if attempt > 1:
                    reason = f"{reason} after {attempt} attempts"
                if connection_failure:
                    self.breaker.trip(origin, reason)
                raise _Unreadable(reason)
            self.retry.sleep(pause)


def _refused(response, request: BusyRequest) -> _Unreadable:
    reason = _status(response.status_code)
    if response.status_code == 401 and request.kind == "caldav" and request.username is None:
        reason += " (the calendar has no username)"
    return _Unreadable(reason)


def _answered(response, request: BusyRequest, ok: tuple[int, ...] = (200,)) -> None:
    """Raise the reason a source cannot be read unless the server answered with one of `ok`."""
    if response.status_code in (401, 403):
        raise _refused(response, request)
    if response.status_code not in ok:
        raise _Unreadable(_status(response.status_code))


def _content_type(response) -> str:
    return (response.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()


def _looks_like_icalendar(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")[:15].upper() == b"BEGIN:VCALENDAR"


def _not_icalendar(response) -> _Unreadable:
    media = _content_type(response)
    shown = f" ({media})" if media and re.fullmatch(r"[a-z0-9.+-]+/[a-z0-9.+-]+", media) else ""
    return _Unreadable(f"the answer is not an iCalendar text{shown}")


# ---------------------------------------------------------------------------------- reading

def _read(reader: _Reader, request: BusyRequest, start: datetime, end: datetime, entry: dict | None,
          caching: bool) -> tuple[tuple[bytes, ...], dict | None]:
    if request.kind == "caldav":
        if request.busy_query == "freebusy":
            return _caldav_freebusy(reader, request, start, end), None
        if request.busy_query == "events":
            return _caldav_events(reader, request, start, end, entry, caching)
        raise _Unreadable(f"unknown busy_query {request.busy_query!r}")
    if request.kind == "url":
        scheme = urllib.parse.urlsplit(request.location).scheme.lower()
        if scheme == "file":
            return _read_file(request), None
        if scheme in ("http", "https", "webcal", "webcals"):
            return _published(reader, request, entry if caching else None)
        raise _Unreadable(f"a {scheme or 'relative'} URL cannot be read")
    raise _Unreadable(f"a {request.kind} calendar cannot be read for busy times")


def _auth(request: BusyRequest):
    if request.username is None:
        return None
    return HTTPBasicAuth(request.username, request.password or "")


def _collection(request: BusyRequest) -> str:
    return request.location if request.location.endswith("/") else request.location + "/"


def _xml(element) -> bytes:
    return etree.tostring(element.xmlelement(), encoding="utf-8", xml_declaration=True)


def _multistatus(response, request: BusyRequest):
    """The parsed 207 reply of a REPORT or PROPFIND; anything else is a reason not to trust the source."""
    _answered(response, request, (200, 207))
    try:
        parsed = DAVResponse(response)
    except Exception:  # noqa: BLE001 - a body that says it is XML and is not
        raise _Unreadable("the answer is not a WebDAV reply") from None
    if parsed.tree is None or parsed.tree.tag != "{DAV:}multistatus":
        # a proxy's or login page's HTML with 200: reading it as "no events" would make everyone free
        raise _Unreadable("the answer is not a WebDAV reply")
    return parsed


def _report(reader: _Reader, request: BusyRequest, element, depth: str):
    return reader.send("REPORT", _collection(request), body=_xml(element), auth=_auth(request),
                       headers={"Depth": depth, "Content-Type": _XML})


def _caldav_freebusy(reader: _Reader, request: BusyRequest, start: datetime, end: datetime) -> tuple[bytes, ...]:
    response = _report(reader, request, cdav.FreeBusyQuery() + [cdav.TimeRange(start, end)], "1")
    _answered(response, request)
    # Content-Type is not checked: Xandikos sends application/octet-stream
    body = response.content or b""
    if not _looks_like_icalendar(body):
        raise _Unreadable("the answer is not a free-busy reply (no VCALENDAR)")
    components = len(_FREEBUSY_COMPONENT.findall(body))
    if components != 1:
        # RFC 4791 §7.10 answers one VFREEBUSY; Radicale before 3.8.2 sent one per occurrence
        raise _Unreadable(f"the answer is not an RFC 4791 free-busy reply ({components} VFREEBUSY components)")
    return (body,)


def _calendar_query(reader: _Reader, request: BusyRequest, start: datetime, end: datetime) -> dict[str, dict]:
    query = cdav.CalendarQuery() + [
        dav.Prop() + [dav.GetEtag(), cdav.CalendarData()],
        cdav.Filter() + (cdav.CompFilter(name="VCALENDAR") + (cdav.CompFilter(name="VEVENT")
                                                              + cdav.TimeRange(start, end)))]
    parsed = _multistatus(_report(reader, request, query, "1"), request)
    objects: dict[str, dict] = {}
    missing: list[str] = []
    for hit in _results(parsed.parse_calendar_query):
        if hit.status != 200:
            continue
        if hit.calendar_data is None:
            missing.append(hit.href)
        else:
            objects[hit.href] = {"etag": hit.etag, "text": hit.calendar_data}
    objects.update(_multiget(reader, request, missing))
    return objects


def _results(parse):
    try:
        return parse()
    except Exception:  # noqa: BLE001 - caldav's parser on a reply it does not understand
        raise _Unreadable("the WebDAV reply could not be read") from None


def _multiget(reader: _Reader, request: BusyRequest, hrefs: list[str]) -> dict[str, dict]:
    """The objects at `hrefs`; one that is gone by now is left out."""
    objects: dict[str, dict] = {}
    for first in range(0, len(hrefs), MULTIGET_CHUNK):
        part = hrefs[first:first + MULTIGET_CHUNK]
        body = cdav.CalendarMultiGet() + [dav.Prop() + [dav.GetEtag(), cdav.CalendarData()]] + [
            dav.Href(value=urllib.parse.quote(href, safe="/@:+~!$&'()*,;=")) for href in part]
        parsed = _multistatus(_report(reader, request, body, "1"), request)
        for hit in _results(parsed.parse_calendar_query):
            if hit.status == 200 and hit.calendar_data is not None:
                objects[hit.href] = {"etag": hit.etag, "text": hit.calendar_data}
    return objects


def _sync_token(reader: _Reader, request: BusyRequest) -> str | None:
    """The collection's current sync-token (RFC 6578 §4), or None where the server has none."""
    response = reader.send("PROPFIND", _collection(request), body=_xml(dav.Propfind() + [dav.Prop() + [dav.SyncToken()]]),
                           auth=_auth(request), headers={"Depth": "0", "Content-Type": _XML})
    if response.status_code in (401, 403, 404):
        _multistatus(response, request)     # raises: this source cannot be read at all
    if response.status_code != 207:
        return None
    parsed = _multistatus(response, request)
    token = parsed.tree.find(".//{DAV:}sync-token")
    return token.text.strip() if token is not None and token.text and token.text.strip() else None


def _sync_changes(reader: _Reader, request: BusyRequest, token: str, objects: dict[str, dict]) -> str:
    """Applies the changes since `token` to `objects`; the new token."""
    missing: list[str] = []
    for _ in range(MAX_SYNC_PAGES):
        body = dav.SyncCollection() + [dav.SyncToken(value=token), dav.SyncLevel(value="1"),
                                       dav.Prop() + [dav.GetEtag(), cdav.CalendarData()]]
        # RFC 6578 §3.2: the report is defined for Depth 0 (sync-level says how deep)
        response = _report(reader, request, body, "0")
        # An invalid token: Radicale 403, Xandikos 412, both with DAV:valid-sync-token. Any refusal
        # but a login's is answered by the full query, which also shows whether the calendar is there.
        if response.status_code not in (200, 207, 401):
            raise _InvalidToken()
        result = _results(_multistatus(response, request).parse_sync_collection)
        for href in result.deleted:
            objects.pop(href, None)
            if href in missing:
                missing.remove(href)
        for hit in result.changed:
            if hit.status != 200:
                continue
            if hit.calendar_data is None:       # Xandikos sends no calendar-data in a sync reply
                objects.pop(hit.href, None)
                missing.append(hit.href)
            else:
                objects[hit.href] = {"etag": hit.etag, "text": hit.calendar_data}
        if not result.sync_token:
            raise _InvalidToken()
        token = result.sync_token
        if not result.truncated:
            break
    objects.update(_multiget(reader, request, missing))
    return token


def _caldav_events(reader: _Reader, request: BusyRequest, start: datetime, end: datetime, entry: dict | None,
                   caching: bool) -> tuple[tuple[bytes, ...], dict | None]:
    need = (start - SLACK, end + SLACK)
    if not caching:
        objects = _calendar_query(reader, request, *need)
        return _object_texts(objects), None
    usable = _usable_entry(entry, need)
    if usable is not None and usable.get("token"):
        objects = dict(usable["objects"])
        try:
            token = _sync_changes(reader, request, usable["token"], objects)
        except _InvalidToken:
            pass
        else:
            return _object_texts(objects), {**usable, "token": token, "objects": objects}
    if usable is not None and usable.get("sync") is False:
        objects = _calendar_query(reader, request, *need)
        return _object_texts(objects), {"sync": False}
    # The token is taken before the query: what changes in between comes back through the next sync.
    token = _sync_token(reader, request)
    if token is None:
        objects = _calendar_query(reader, request, *need)
        return _object_texts(objects), {"sync": False}
    window = (need[0], end + READ_AHEAD)
    objects = _calendar_query(reader, request, *window)
    return _object_texts(objects), {"sync": True, "token": token, "window": [_iso(window[0]), _iso(window[1])],
                                    "objects": objects}


def _usable_entry(entry: dict | None, need: tuple[datetime, datetime]) -> dict | None:
    """The cache entry if it can answer this read: its window covers the one needed."""
    if not isinstance(entry, dict):
        return None
    if entry.get("sync") is False:
        return entry
    try:
        window = (datetime.fromisoformat(entry["window"][0]), datetime.fromisoformat(entry["window"][1]))
        objects = entry["objects"]
        valid = isinstance(entry["token"], str) and isinstance(objects, dict) and all(
            isinstance(o, dict) and isinstance(o.get("text"), str) for o in objects.values())
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    if not valid or not (window[0] <= need[0] and need[1] <= window[1]):
        return None
    return entry


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


def _object_texts(objects: dict[str, dict]) -> tuple[bytes, ...]:
    return tuple(objects[href]["text"].encode("utf-8") for href in sorted(objects))


def _published(reader: _Reader, request: BusyRequest, entry: dict | None) -> tuple[tuple[bytes, ...], dict]:
    cached = _cached_body(entry)
    headers = {"Accept": "text/calendar, */*;q=0.5"}
    if cached is not None:
        if entry.get("etag"):
            headers["If-None-Match"] = entry["etag"]
        if entry.get("last_modified"):
            headers["If-Modified-Since"] = entry["last_modified"]
    response = reader.send("GET", http_location(request.location), headers=headers)
    if response.status_code == 304 and cached is not None:
        return (cached,), entry
    _answered(response, request)
    body = response.content or b""
    if not _looks_like_icalendar(body):
        raise _not_icalendar(response)
    new = {"etag": response.headers.get("ETag"), "last_modified": response.headers.get("Last-Modified"),
           "sha256": hashlib.sha256(body).hexdigest()}
    try:
        new["body"] = body.decode("utf-8")
    except UnicodeDecodeError:
        new["body_base64"] = base64.b64encode(body).decode("ascii")
    return (body,), new


def _cached_body(entry: dict | None) -> bytes | None:
    """The body kept in the cache, if it is whole (its digest matches) and has a validator."""
    if not isinstance(entry, dict) or not (entry.get("etag") or entry.get("last_modified")):
        return None
    try:
        if isinstance(entry.get("body"), str):
            body = entry["body"].encode("utf-8")
        else:
            body = base64.b64decode(entry["body_base64"], validate=True)
    except (KeyError, TypeError, ValueError):
        return None
    return body if hashlib.sha256(body).hexdigest() == entry.get("sha256") else None


def _read_file(request: BusyRequest) -> tuple[bytes, ...]:
    parts = urllib.parse.urlsplit(request.location)
    if parts.netloc not in ("", "localhost"):
        raise _Unreadable("a file:// URL names a file on this machine (file:///path)")
    try:
        body = Path(urllib.parse.unquote(parts.path)).read_bytes()
    except FileNotFoundError:
        raise _Unreadable("no such file") from None
    except IsADirectoryError:
        raise _Unreadable("a folder, not a file") from None
    except OSError as exc:
        raise _Unreadable(f"the file cannot be read ({exc.strerror or type(exc).__name__})") from None
    if not _looks_like_icalendar(body):
        raise _Unreadable("the file is not an iCalendar file")
    return (body,)
