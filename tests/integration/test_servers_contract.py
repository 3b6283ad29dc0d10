"""What kalender-sync relies on from real CalDAV servers (Radicale, Xandikos).

Every test runs on a fresh, empty calendar (see conftest.py).  Events are built
with icalendar, with UTC times and no VTIMEZONE.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

import pytest
from icalendar import Calendar, Event

pytestmark = pytest.mark.integration

ICS_TYPE = "text/calendar; charset=utf-8"
DAV = "DAV:"


def make_event(uid: str, summary: str, sequence: int = 0) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//kalender-sync//integration tests//EN")
    cal.add("version", "2.0")
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.timezone.utc))
    event.add("dtstart", dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc))
    event.add("dtend", dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.timezone.utc))
    event.add("summary", summary)
    event.add("sequence", sequence)
    cal.add_component(event)
    return cal.to_ical()


def new_href(target) -> tuple[str, str]:
    """(uid, absolute URL of <uid>.ics in this test's calendar)."""
    uid = f"{uuid.uuid4()}@kalender-sync.test"
    return uid, target.calendar_url + urllib.parse.quote(uid) + ".ics"


def put(target, url: str, body: bytes, **conditions):
    headers = {"Content-Type": ICS_TYPE}
    for name, value in conditions.items():  # if_match="..." -> If-Match: ...
        headers[name.replace("_", "-").title()] = value
    return target.request("PUT", url, body=body, headers=headers)


def parse_event(body: bytes):
    events = [c for c in Calendar.from_ical(body).walk("VEVENT")]
    assert len(events) == 1, body
    return events[0]


def path_of(url: str) -> str:
    return urllib.parse.unquote(urllib.parse.urlsplit(url).path)


def sync_report(target, token: str | None):
    """Raw RFC 6578 sync-collection REPORT: (new token, {path: status})."""
    root = ET.Element(f"{{{DAV}}}sync-collection")
    ET.SubElement(root, f"{{{DAV}}}sync-token").text = token or None
    ET.SubElement(root, f"{{{DAV}}}sync-level").text = "1"
    ET.SubElement(ET.SubElement(root, f"{{{DAV}}}prop"), f"{{{DAV}}}getetag")
    body = ET.tostring(root, xml_declaration=True, encoding="utf-8")
    reply = target.request("REPORT", target.calendar_url, body=body, headers={
        "Content-Type": "application/xml; charset=utf-8", "Depth": "0"})
    assert reply.status == 207, (reply.status, reply.body[:500])
    tree = ET.fromstring(reply.body)
    new_token = tree.findtext(f"{{{DAV}}}sync-token")
    members = {}
    for response in tree.findall(f"{{{DAV}}}response"):
        href = path_of(response.findtext(f"{{{DAV}}}href"))
        status = response.findtext(f"{{{DAV}}}status") or response.findtext(
            f"{{{DAV}}}propstat/{{{DAV}}}status")
        members[href] = int(status.split()[1])
    return new_token, members


# ---------------------------------------------------------------------------


def test_fresh_calendar_is_empty_and_unique(caldav_server):
    assert caldav_server.calendar_url.startswith(caldav_server.principal_url)
    other = caldav_server.new_calendar("other")
    assert other != caldav_server.calendar_url
    reply = caldav_server.request("PROPFIND", caldav_server.calendar_url,
                                  headers={"Depth": "1"})
    assert reply.status == 207
    hrefs = {path_of(r.findtext(f"{{{DAV}}}href"))
             for r in ET.fromstring(reply.body).findall(f"{{{DAV}}}response")}
    assert hrefs == {path_of(caldav_server.calendar_url)}


def test_if_none_match_star_creates_once(caldav_server):
    uid, url = new_href(caldav_server)
    body = make_event(uid, "Coffee with Bea")

    first = put(caldav_server, url, body, if_none_match="*")
    assert first.status == 201, first.body[:300]

    second = put(caldav_server, url, body, if_none_match="*")
    assert second.status == 412, second.body[:300]


def test_get_returns_etag_and_uid(caldav_server):
    uid, url = new_href(caldav_server)
    created = put(caldav_server, url, make_event(uid, "Lunch with Cem"), if_none_match="*")
    assert created.status == 201

    got = caldav_server.request("GET", url)
    assert got.status == 200
    assert got.headers["content-type"].startswith("text/calendar")
    etag = got.headers.get("etag")
    assert etag and etag.startswith('"') and etag.endswith('"'), etag  # strong ETag
    assert created.headers.get("etag") == etag  # ETag on PUT is the stored one
    event = parse_event(got.body)
    assert str(event["UID"]) == uid
    assert str(event["SUMMARY"]) == "Lunch with Cem"
    assert event.decoded("DTSTART") == dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)


def test_if_match_guards_overwrite(caldav_server):
    uid, url = new_href(caldav_server)
    assert put(caldav_server, url, make_event(uid, "v1"), if_none_match="*").status == 201
    old_etag = caldav_server.request("GET", url).headers["etag"]

    wrong = put(caldav_server, url, make_event(uid, "v2", 1), if_match='"not-the-etag"')
    assert wrong.status == 412
    assert str(parse_event(caldav_server.request("GET", url).body)["SUMMARY"]) == "v1"

    right = put(caldav_server, url, make_event(uid, "v2", 1), if_match=old_etag)
    assert right.status in (200, 204), right.status  # overwritten, not created
    got = caldav_server.request("GET", url)
    assert str(parse_event(got.body)["SUMMARY"]) == "v2"
    assert got.headers["etag"] != old_etag

    stale = put(caldav_server, url, make_event(uid, "v3", 2), if_match=old_etag)
    assert stale.status == 412


def test_overwrite_without_if_match_is_allowed_by_default(caldav_server):
    # Neither server protects a blind overwrite in its default mode, so the
    # client has to send If-Match itself.
    uid, url = new_href(caldav_server)
    assert put(caldav_server, url, make_event(uid, "v1"), if_none_match="*").status == 201
    blind = put(caldav_server, url, make_event(uid, "v2", 1))
    assert blind.status in (200, 204)
    assert str(parse_event(caldav_server.request("GET", url).body)["SUMMARY"]) == "v2"


def test_sync_collection_raw_report(caldav_server):
    uid_a, url_a = new_href(caldav_server)
    uid_b, url_b = new_href(caldav_server)
    assert put(caldav_server, url_a, make_event(uid_a, "A"), if_none_match="*").status == 201
    assert put(caldav_server, url_b, make_event(uid_b, "B"), if_none_match="*").status == 201

    token1, members = sync_report(caldav_server, None)
    assert token1
    assert members == {path_of(url_a): 200, path_of(url_b): 200}

    etag_b = caldav_server.request("GET", url_b).headers["etag"]
    assert put(caldav_server, url_b, make_event(uid_b, "B2", 1), if_match=etag_b).status in (200, 204)

    token2, changed = sync_report(caldav_server, token1)
    assert token2 and token2 != token1
    assert changed == {path_of(url_b): 200}

    token3, nothing = sync_report(caldav_server, token2)
    assert nothing == {}
    assert token3


def test_sync_collection_via_caldav(caldav_server):
    calendar = caldav_server.calendar()
    uid_a, url_a = new_href(caldav_server)
    uid_b, url_b = new_href(caldav_server)
    assert put(caldav_server, url_a, make_event(uid_a, "A"), if_none_match="*").status == 201

    # (get_objects_by_sync_token is the current name of objects_by_sync_token.)
    # disable_fallback: fail instead of quietly emulating sync with a "fake-" token
    first = calendar.get_objects_by_sync_token(load_objects=False, disable_fallback=True)
    assert first.sync_token and not str(first.sync_token).startswith("fake-")
    assert [path_of(str(o.url)) for o in first] == [path_of(url_a)]

    assert put(caldav_server, url_b, make_event(uid_b, "B"), if_none_match="*").status == 201

    second = calendar.get_objects_by_sync_token(
        sync_token=first.sync_token, load_objects=False, disable_fallback=True)
    assert [path_of(str(o.url)) for o in second] == [path_of(url_b)]
    assert second.sync_token != first.sync_token


def test_strict_radicale_refuses_overwrite_without_if_match(strict_radicale):
    uid, url = new_href(strict_radicale)
    assert put(strict_radicale, url, make_event(uid, "v1"), if_none_match="*").status == 201
    etag = strict_radicale.request("GET", url).headers["etag"]

    blind = put(strict_radicale, url, make_event(uid, "v2", 1))
    assert blind.status == 412
    assert str(parse_event(strict_radicale.request("GET", url).body)["SUMMARY"]) == "v1"

    guarded = put(strict_radicale, url, make_event(uid, "v2", 1), if_match=etag)
    assert guarded.status in (200, 204)
    assert str(parse_event(strict_radicale.request("GET", url).body)["SUMMARY"]) == "v2"
