"""One CalDAV calendar collection, spoken to with conditional requests only.

caldav's object API is not used: its save_event() bumps SEQUENCE even on create and silently
overwrites an existing UID (python-caldav#219, #71), so every write here is a plain PUT/DELETE
with our own If-None-Match / If-Match headers. Its XML elements build the REPORT bodies and its
multistatus parser reads the answers; the requests go over the run's keep-alive connections
(targets/connections.py), with the retries every server connection shares (targets/network.py).
"""
from __future__ import annotations

import base64
import urllib.parse

from caldav.elements import cdav, dav
from caldav.response import DAVResponse
from lxml import etree

from ..core.errors import TargetError
from ..core.planning import PlannedEvent
from ..core.timezones import VTimezones
from .base import (Capabilities, InvalidSyncToken, Item, Listed, Listing, PreconditionFailed, Refused, Transient,
                   Version)
from .connections import Connections
from .ical import read_item
from .network import CALDAV_RETRY, NETWORK_TIMEOUT, RequestLog, RetryPolicy

_ICS = "text/calendar; charset=utf-8"


def redact(url: str) -> str:
    """The URL as it may be shown: without user info, which could hold a password."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, parts.query, ""))


class CalDAVTarget:
    """One person's CalDAV calendar collection."""

    capabilities = Capabilities(incremental=True, others_can_edit=True, keeps_history=True, remote=True)

    def __init__(self, url: str, username: str | None, password: str | None, *, lang: str = "nl",
                 timeout: float = NETWORK_TIMEOUT, retry: RetryPolicy | None = None, log: RequestLog | None = None,
                 zones: VTimezones | None = None, connections: Connections | None = None):
        self.url = url if url.endswith("/") else url + "/"
        self.lang = lang
        self.zones = zones if zones is not None else VTimezones()
        self.retry = retry or CALDAV_RETRY
        self.log = log if log is not None else RequestLog()
        self.username = username
        # Basic credentials go with every request at once: a first request sent bare would get
        # a 401 that Radicale holds back for a second ([auth] delay).
        self._auth = {} if username is None else {"Authorization": "Basic " + base64.b64encode(
            f"{username}:{password or ''}".encode("utf-8")).decode("ascii")}
        self._own_connections = connections is None
        self.connections = connections if connections is not None else Connections(timeout)

    @classmethod
    def open(cls, calendar, person, context) -> "CalDAVTarget":
        username = calendar.username.replace("{person}", person.id) if calendar.username else None
        return cls(calendar.location.replace("{person}", person.id), username,
                   context.password(calendar, username), lang=person.language, timeout=context.timeout,
                   retry=context.retry, log=context.log, zones=context.zones,
                   connections=context.connections())

    def identity(self) -> str:
        return redact(self.url)     # the status DB's key since the first release: no credentials

    def describe(self) -> str:
        return redact(self.url)

    def href_for(self, uid: str) -> str:
        return self.url + urllib.parse.quote(uid.split("@", 1)[0], safe="") + ".ics"

    def close(self) -> None:
        """The run's connections stay open for its other calendars; one made for this target alone closes."""
        if self._own_connections:
            self.connections.close()

    # -- plumbing ----------------------------------------------------------
    def _call(self, method: str, url: str, body: bytes | None = None, headers: dict | None = None):
        pauses = self.retry.pauses()
        attempt = 0
        while True:
            attempt += 1
            self.log.add(method)
            try:
                response = self.connections.request(method, url, body, {**self._auth, **(headers or {})})
            except Exception as exc:  # noqa: BLE001 - connection reset, timeout, TLS: worth another try
                reason = type(exc).__name__
            else:
                if response.status in (401, 403):
                    raise self._refused()
                if response.status < 500 and response.status != 429:
                    return response
                reason = f"HTTP {response.status}"
            pause = next(pauses, None)
            if pause is None:
                raise Transient(f"{method} {self.describe()}: {reason} after {attempt} attempts") from None
            self.retry.sleep(pause)

    def _refused(self) -> Refused:
        if self.username is None:
            return Refused(f"{self.describe()}: the server asks for a login (401/403); give the calendar "
                           "a username, and password_env or keyring")
        return Refused(f"{self.describe()}: the server refused the credentials (401/403)")

    @staticmethod
    def _etag(response) -> str | None:
        return response.headers.get("etag")

    def _fail(self, method: str, href: str, response) -> TargetError:
        body = response.text
        if response.status == 412 or response.status == 409 and "no-uid-conflict" in body:
            return PreconditionFailed(f"{method} {redact(href)}: HTTP {response.status}")
        return TargetError(f"{method} {redact(href)}: HTTP {response.status} {response.reason or ''}".strip())

    def _report(self, body):
        text = etree.tostring(body.xmlelement(), encoding="utf-8", xml_declaration=True)
        return self._call("REPORT", self.url, text, {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"})

    # -- reading ---------------------------------------------------------------
    def list(self, token: str | None) -> Listing:
        """Changes since `token` (RFC 6578 sync-collection), or everything when token is None.

        Only hrefs and ETags come back: the engine reads the bodies it does not know yet
        with `read`, so our own writes are never downloaded again.
        """
        body = dav.SyncCollection() + [dav.SyncToken(value=token or ""), dav.SyncLevel(value="1"),
                                       dav.Prop() + [dav.GetEtag()]]
        try:
            response = self._report(body)
        except Refused:
            # Radicale answers a stale token with 403 valid-sync-token; a real credential
            # problem shows again on the full listing that follows.
            if token:
                raise InvalidSyncToken(f"{self.describe()}: the sync token is no longer valid") from None
            raise
        if response.status in (403, 409, 412) and token:
            raise InvalidSyncToken(f"{self.describe()}: the sync token is no longer valid")
        if response.status not in (200, 207):
            raise TargetError(f"REPORT {self.describe()}: HTTP {response.status}")
        result = DAVResponse(response).parse_sync_collection()
        items = [Listed(self._absolute(r.href), r.etag) for r in result.changed]
        deleted = [self._absolute(h) for h in result.deleted]
        # A truncated answer (RFC 6578 §3.6) is continued from the token it gave.
        next_token = result.sync_token
        if result.truncated and next_token:
            more = self.list(next_token)
            items += more.items
            deleted += more.deleted
            next_token = more.token
        return Listing(items, deleted, next_token, full=token is None)

    def read(self, hrefs, chunk: int = 500) -> dict[str, Item | None]:
        """The bodies in bulk: one calendar-multiget REPORT per `chunk` hrefs instead of a GET
        each (Xandikos sends no calendar-data in sync reports, so every new body is fetched)."""
        result: dict[str, Item | None] = dict.fromkeys(hrefs)
        hrefs = list(result)
        if len(hrefs) == 1:
            return {hrefs[0]: self._get(hrefs[0])}
        for start in range(0, len(hrefs), chunk):
            part = hrefs[start:start + chunk]
            body = cdav.CalendarMultiGet() + [dav.Prop() + [dav.GetEtag(), cdav.CalendarData()]] + [
                dav.Href(value=urllib.parse.urlsplit(href).path) for href in part]
            response = self._report(body)
            if response.status not in (200, 207):
                raise TargetError(f"REPORT {self.describe()}: HTTP {response.status}")
            for hit in DAVResponse(response).parse_calendar_query():
                href = self._absolute(hit.href)
                if hit.status == 200 and href in result:
                    result[href] = read_item(href, hit.etag, hit.calendar_data)
        return result

    def _absolute(self, href: str) -> str:
        return urllib.parse.urljoin(self.url, href)

    def _get(self, href: str) -> Item | None:
        response = self._call("GET", href)
        if response.status == 404:
            return None
        if response.status != 200:
            raise self._fail("GET", href, response)
        return read_item(href, self._etag(response), response.content.decode("utf-8"))

    # -- writing (always conditional) --------------------------------------------
    def encode(self, event: PlannedEvent, version: Version) -> bytes:
        from ..core.render import render_object   # icalendar: only when something is written
        return render_object(event, version.stamp, version.sequence, self.lang, self.zones)

    def create(self, href: str, body: bytes) -> str | None:
        response = self._call("PUT", href, body, {"If-None-Match": "*", "Content-Type": _ICS})
        if response.status not in (200, 201, 204):
            raise self._fail("PUT", href, response)
        return self._etag(response)

    def update(self, href: str, body: bytes, etag: str | None) -> str | None:
        response = self._call("PUT", href, body, {"If-Match": etag or "*", "Content-Type": _ICS})
        if response.status not in (200, 201, 204):
            raise self._fail("PUT", href, response)
        return self._etag(response)

    def delete(self, href: str, etag: str | None) -> bool:
        """True if deleted, False if it was already gone."""
        response = self._call("DELETE", href, None, {"If-Match": etag or "*"})
        if response.status == 404:
            return False
        if response.status not in (200, 204):
            raise self._fail("DELETE", href, response)
        return True

    def flush(self, unchanged=None) -> bool:
        return False     # every write took effect when the server answered it
