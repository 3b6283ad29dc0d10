"""One CalDAV calendar collection, spoken to with conditional requests only.

Uses caldav's DAVClient as the HTTP/WebDAV layer but not its object API: caldav's
save_event() bumps SEQUENCE even on create and silently overwrites an existing UID
(python-caldav#219, #71), so every write here is a plain PUT/DELETE with our own
If-None-Match / If-Match headers. caldav has no retries; they are added here
(targets/retry.py, the policy every server connection shares).
"""
from __future__ import annotations

import urllib.parse

from caldav import DAVClient
from caldav.elements import cdav, dav
from caldav.lib import error as caldav_error
from lxml import etree

from ..core.errors import TargetError
from ..core.planning import PlannedEvent
from ..core.timezones import VTimezones
from .base import (Capabilities, InvalidSyncToken, Item, Listed, Listing, PreconditionFailed, Refused, Transient,
                   Version)
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

    capabilities = Capabilities(incremental=True, others_can_edit=True, keeps_history=True)

    def __init__(self, url: str, username: str | None, password: str | None, *, lang: str = "nl",
                 timeout: float = NETWORK_TIMEOUT, retry: RetryPolicy | None = None, log: RequestLog | None = None,
                 zones: VTimezones | None = None):
        self.url = url if url.endswith("/") else url + "/"
        self.lang = lang
        self.zones = zones if zones is not None else VTimezones()
        self.retry = retry or CALDAV_RETRY
        self.log = log if log is not None else RequestLog()
        # auth_type="basic" sends credentials at once: without it the first request goes
        # out bare and Radicale holds its 401 back for a second ([auth] delay).
        self.client = DAVClient(self.url, username=username, password=password,
                                auth_type="basic" if username is not None else None, timeout=timeout)

    @classmethod
    def open(cls, calendar, person, context) -> "CalDAVTarget":
        username = calendar.username.replace("{person}", person.id) if calendar.username else None
        return cls(calendar.location.replace("{person}", person.id), username,
                   context.password(calendar, username), lang=person.language, timeout=context.timeout,
                   retry=context.retry, log=context.log, zones=context.zones)

    def identity(self) -> str:
        return redact(self.url)     # the status DB's key since the first release: no credentials

    def describe(self) -> str:
        return redact(self.url)

    def href_for(self, uid: str) -> str:
        return self.url + urllib.parse.quote(uid.split("@", 1)[0], safe="") + ".ics"

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:   # noqa: BLE001 - closing a finished session must not fail a run
            pass

    # -- plumbing ----------------------------------------------------------
    def _call(self, method: str, func):
        pauses = self.retry.pauses()
        attempt = 0
        while True:
            attempt += 1
            self.log.add(method)
            try:
                response = func()
            except caldav_error.AuthorizationError:
                if self.client.username is None:
                    raise Refused(f"{self.describe()}: the server asks for a login (401/403); give the calendar "
                                  "a username, and password_env or keyring") from None
                raise Refused(f"{self.describe()}: the server refused the credentials (401/403)") from None
            except Exception as exc:  # connection reset, timeout, TLS: all from the HTTP stack
                reason = type(exc).__name__
            else:
                if response.status < 500 and response.status != 429:
                    return response
                reason = f"HTTP {response.status}"
            pause = next(pauses, None)
            if pause is None:
                raise Transient(f"{method} {self.describe()}: {reason} after {attempt} attempts") from None
            self.retry.sleep(pause)

    @staticmethod
    def _etag(response) -> str | None:
        for name, value in response.headers.items():
            if name.lower() == "etag":
                return value
        return None

    def _fail(self, method: str, href: str, response) -> TargetError:
        body = (response.raw or b"")
        body = body if isinstance(body, str) else body.decode("utf-8", "replace")
        if response.status == 412 or response.status == 409 and "no-uid-conflict" in body:
            return PreconditionFailed(f"{method} {redact(href)}: HTTP {response.status}")
        return TargetError(f"{method} {redact(href)}: HTTP {response.status} {response.reason or ''}".strip())

    def _report(self, body) -> object:
        text = etree.tostring(body.xmlelement(), encoding="utf-8", xml_declaration=True).decode()
        return self._call("REPORT", lambda: self.client.request(
            self.url, "REPORT", text, {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"}))

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
            # Radicale answers a stale token with 403 valid-sync-token, which caldav
            # reports as an authorization error; a real credential problem shows again
            # on the full listing that follows.
            if token:
                raise InvalidSyncToken(f"{self.describe()}: the sync token is no longer valid") from None
            raise
        if response.status in (403, 409, 412) and token:
            raise InvalidSyncToken(f"{self.describe()}: the sync token is no longer valid")
        if response.status not in (200, 207):
            raise TargetError(f"REPORT {self.describe()}: HTTP {response.status}")
        result = response.parse_sync_collection()
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
            for hit in response.parse_calendar_query():
                href = self._absolute(hit.href)
                if hit.status == 200 and href in result:
                    result[href] = read_item(href, hit.etag, hit.calendar_data)
        return result

    def _absolute(self, href: str) -> str:
        return urllib.parse.urljoin(self.url, href)

    def _get(self, href: str) -> Item | None:
        response = self._call("GET", lambda: self.client.request(href, "GET"))
        if response.status == 404:
            return None
        if response.status != 200:
            raise self._fail("GET", href, response)
        raw = response.raw
        return read_item(href, self._etag(response), raw if isinstance(raw, str) else raw.decode("utf-8"))

    # -- writing (always conditional) --------------------------------------------
    def encode(self, event: PlannedEvent, version: Version) -> bytes:
        from ..core.render import render_object   # icalendar: only when something is written
        return render_object(event, version.stamp, version.sequence, self.lang, self.zones)

    def create(self, href: str, body: bytes) -> str | None:
        response = self._call("PUT", lambda: self.client.put(
            href, body.decode("utf-8"), {"If-None-Match": "*", "Content-Type": _ICS}))
        if response.status not in (200, 201, 204):
            raise self._fail("PUT", href, response)
        return self._etag(response)

    def update(self, href: str, body: bytes, etag: str | None) -> str | None:
        response = self._call("PUT", lambda: self.client.put(
            href, body.decode("utf-8"), {"If-Match": etag or "*", "Content-Type": _ICS}))
        if response.status not in (200, 201, 204):
            raise self._fail("PUT", href, response)
        return self._etag(response)

    def delete(self, href: str, etag: str | None) -> bool:
        """True if deleted, False if it was already gone."""
        response = self._call("DELETE", lambda: self.client.delete(href, {"If-Match": etag or "*"}))
        if response.status == 404:
            return False
        if response.status not in (200, 204):
            raise self._fail("DELETE", href, response)
        return True

    def flush(self, unchanged=None) -> bool:
        return False     # every write took effect when the server answered it
