"""One CalDAV calendar collection, spoken to with conditional requests only.

Uses caldav's DAVClient as the HTTP/WebDAV layer but not its object API: caldav's
save_event() bumps SEQUENCE even on create and silently overwrites an existing UID
(python-caldav#219, #71), so every write here is a plain PUT/DELETE with our own
If-None-Match / If-Match headers. caldav has no retries; they are added here.
"""
from __future__ import annotations

import time
import urllib.parse
from dataclasses import dataclass, field

from caldav import DAVClient
from caldav.elements import cdav, dav
from caldav.lib import error as caldav_error
from lxml import etree

from ..core.errors import TargetError

_ICS = "text/calendar; charset=utf-8"


class PreconditionFailed(TargetError):
    """412 (or 409 no-uid-conflict): the resource is not in the state we assumed."""


class Transient(TargetError):
    """A failure worth retrying: 5xx, timeout, connection reset."""


class InvalidSyncToken(TargetError):
    pass


class Refused(TargetError):
    """401/403: wrong credentials or no access."""


@dataclass
class Listed:
    href: str
    etag: str | None
    data: str | None


@dataclass
class Listing:
    changed: list[Listed]
    deleted: list[str]
    token: str | None
    full: bool


@dataclass
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.1
    max_delay: float = 2.0


@dataclass
class RequestLog:
    """Counts requests per method, for the summary, the tests and the benchmarks."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, method: str) -> None:
        self.counts[method] = self.counts.get(method, 0) + 1

    @property
    def writes(self) -> int:
        return self.counts.get("PUT", 0) + self.counts.get("DELETE", 0)


def redact(url: str) -> str:
    """The URL as it may be shown: without user info, which could hold a password."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, parts.query, ""))


class CalDAVCalendar:
    def __init__(self, url: str, username: str | None, password: str | None, *, timeout: float = 30,
                 retry: RetryPolicy | None = None, log: RequestLog | None = None, sleep=time.sleep):
        self.url = url if url.endswith("/") else url + "/"
        self.retry = retry or RetryPolicy()
        self.log = log or RequestLog()
        self.sleep = sleep
        # auth_type="basic" sends credentials at once: without it the first request goes
        # out bare and Radicale holds its 401 back for a second ([auth] delay).
        self.client = DAVClient(self.url, username=username, password=password,
                                auth_type="basic" if username is not None else None, timeout=timeout)

    def describe(self) -> str:
        return redact(self.url)

    def href_for(self, uid: str) -> str:
        return self.url + urllib.parse.quote(uid.split("@", 1)[0], safe="") + ".ics"

    # -- plumbing ----------------------------------------------------------
    def _call(self, method: str, func, *args):
        delay = self.retry.base_delay
        for attempt in range(1, self.retry.attempts + 1):
            self.log.add(method)
            try:
                response = func(*args)
            except caldav_error.AuthorizationError:
                raise Refused(f"{self.describe()}: the server refused the credentials (401/403)") from None
            except Exception as exc:  # connection reset, timeout, TLS: all from the HTTP stack
                reason = type(exc).__name__
                if attempt == self.retry.attempts:
                    raise Transient(f"{method} {self.describe()}: {reason} after {attempt} attempts") from None
            else:
                if response.status < 500 and response.status != 429:
                    return response
                reason = f"HTTP {response.status}"
                if attempt == self.retry.attempts:
                    raise Transient(f"{method} {self.describe()}: {reason} after {attempt} attempts")
            self.sleep(min(delay, self.retry.max_delay))
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

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

    # -- reading ---------------------------------------------------------------
    def listing(self, token: str | None, with_data: bool = False) -> Listing:
        """Changes since `token` (RFC 6578), or everything when token is None.

        Without `with_data` only hrefs and ETags come back: the caller fetches the bodies
        it does not know yet with `fill`, so our own writes are never downloaded again.
        """
        props = [dav.GetEtag(), cdav.CalendarData()] if with_data else [dav.GetEtag()]
        body = dav.SyncCollection() + [dav.SyncToken(value=token or ""), dav.SyncLevel(value="1"),
                                       dav.Prop() + props]
        text = etree.tostring(body.xmlelement(), encoding="utf-8", xml_declaration=True).decode()
        try:
            response = self._call("REPORT", lambda: self.client.request(
                self.url, "REPORT", text, {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"}))
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
        changed = [Listed(self._absolute(r.href), r.etag, r.calendar_data) for r in result.changed]
        deleted = [self._absolute(h) for h in result.deleted]
        # A truncated answer (RFC 6578 §3.6) is continued from the token it gave.
        while result.truncated and result.sync_token:
            more = self.listing(result.sync_token, with_data)
            changed += more.changed
            deleted += more.deleted
            result.sync_token = more.token
            result.truncated = False
        if with_data:
            self.fill(changed)
        return Listing(changed, deleted, result.sync_token, full=token is None)

    def fill(self, items: list[Listed], chunk: int = 500) -> None:
        """Fetch calendar-data the listing left out (Xandikos sends only ETags) in bulk.

        One calendar-multiget REPORT per `chunk` items instead of one GET each.
        """
        missing = [item for item in items if item.data is None]
        for start in range(0, len(missing), chunk):
            part = missing[start:start + chunk]
            body = cdav.CalendarMultiGet() + [dav.Prop() + [dav.GetEtag(), cdav.CalendarData()]] + [
                dav.Href(value=urllib.parse.urlsplit(item.href).path) for item in part]
            text = etree.tostring(body.xmlelement(), encoding="utf-8", xml_declaration=True).decode()
            response = self._call("REPORT", lambda: self.client.request(
                self.url, "REPORT", text, {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"}))
            if response.status not in (200, 207):
                raise TargetError(f"REPORT {self.describe()}: HTTP {response.status}")
            found = {self._absolute(r.href): r for r in response.parse_calendar_query() if r.status == 200}
            for item in part:
                hit = found.get(item.href)
                if hit is not None:
                    item.data, item.etag = hit.calendar_data, hit.etag or item.etag

    def _absolute(self, href: str) -> str:
        return urllib.parse.urljoin(self.url, href)

    def get(self, href: str) -> Listed | None:
        response = self._call("GET", lambda: self.client.request(href, "GET"))
        if response.status == 404:
            return None
        if response.status != 200:
            raise self._fail("GET", href, response)
        raw = response.raw
        return Listed(href, self._etag(response), raw if isinstance(raw, str) else raw.decode("utf-8"))

    # -- writing (always conditional) --------------------------------------------
    def create(self, href: str, data: bytes) -> str | None:
        response = self._call("PUT", lambda: self.client.put(
            href, data.decode("utf-8"), {"If-None-Match": "*", "Content-Type": _ICS}))
        if response.status not in (200, 201, 204):
            raise self._fail("PUT", href, response)
        return self._etag(response)

    def update(self, href: str, data: bytes, etag: str) -> str | None:
        response = self._call("PUT", lambda: self.client.put(
            href, data.decode("utf-8"), {"If-Match": etag, "Content-Type": _ICS}))
        if response.status not in (200, 201, 204):
            raise self._fail("PUT", href, response)
        return self._etag(response)

    def delete(self, href: str, etag: str) -> bool:
        """True if deleted, False if it was already gone."""
        response = self._call("DELETE", lambda: self.client.delete(href, {"If-Match": etag}))
        if response.status == 404:
            return False
        if response.status not in (200, 204):
            raise self._fail("DELETE", href, response)
        return True
