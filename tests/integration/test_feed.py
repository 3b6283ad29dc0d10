"""`kalender-sync serve` as a real waitress process, spoken to over HTTP on 127.0.0.1.

The server is started once for the module on a free port with a fixed --today; tests that
change the config, the contact log or a token put things back, so their order does not matter
for the others (but the log checks run last, over everything the module sent).
"""
from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import icalendar
import pytest
from ical.calendar_stream import IcsCalendarStream

from kalender_sync.core.history import past_stretch
from kalender_sync.core.planning import plan as make_plan
from kalender_sync.storage.feedtokens import new_token
from kalender_sync.storage.teamfiles import load
from support.servers import free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "example.yaml"
TODAY = "2026-11-24"
HOST = "127.0.0.1"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
PEOPLE = ("maarten", "jan-willem", "sanne", "ad", "fatima")
WRONG_TOKENS: list[str] = []         # every wrong token sent, to check the log never shows one
OLD_TOKENS: list[str] = []           # rotated away


def _command() -> list[str]:
    script = Path(sys.executable).with_name("kalender-sync")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kalender_sync"]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*_command(), *args], capture_output=True, text=True, timeout=60)


@dataclass
class Reply:
    status: int
    headers: dict
    body: bytes


def request(port: int, path: str, method: str = "GET", headers: dict | None = None) -> Reply:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, body)
    finally:
        conn.close()


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    log_path: Path
    started_seconds: float

    def get(self, path: str, **kw) -> Reply:
        return request(self.port, path, **kw)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(config: Path, log_path: Path) -> Server:
    port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    began = time.monotonic()
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen([*_command(), "serve", "--config", str(config), "--today", TODAY,
                                 "--port", str(port)], stdin=subprocess.DEVNULL, stdout=log_file,
                                stderr=subprocess.STDOUT, env=env)
    server = Server(port, proc, log_path, 0.0)
    while time.monotonic() - began < START_TIMEOUT:
        if proc.poll() is not None:
            pytest.fail(f"serve exited with {proc.returncode}:\n{server.log()}", pytrace=False)
        try:
            if request(port, "/healthz").status == 200:
                server.started_seconds = time.monotonic() - began
                return server
        except OSError:
            time.sleep(0.05)
    server.stop()
    pytest.fail(f"serve did not answer /healthz within {START_TIMEOUT} s:\n{server.log()}", pytrace=False)


@pytest.fixture(scope="module")
def team_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("feed")
    shutil.copy(EXAMPLE, folder / "team.yaml")
    shutil.copy(EXAMPLE.with_name("contacts-log.yaml"), folder / "contacts-log.yaml")
    return folder


@pytest.fixture(scope="module")
def tokens(team_dir) -> dict[str, str]:
    result = run_cli("feed-token", "rotate", "--all", "--config", str(team_dir / "team.yaml"), "--format", "json")
    assert result.returncode == 0, result.stderr
    links = json.loads(result.stdout)["links"]
    found = {}
    for link in links:
        match = re.fullmatch(r"http://127\.0\.0\.1:8080/feed/([a-z-]+)/([A-Za-z0-9_-]+)\.ics", link["url"])
        assert match and match.group(1) == link["person"], link
        assert link["webcal"] == "webcal://" + link["url"][len("http://"):]
        found[link["person"]] = match.group(2)
    assert sorted(found) == sorted(PEOPLE)
    return found


@pytest.fixture(scope="module")
def server(team_dir, tokens, request):
    srv = start_server(team_dir / "team.yaml", team_dir / "server.log")
    request.addfinalizer(srv.stop)
    return srv


def feed_path(person: str, token: str) -> str:
    return f"/feed/{person}/{token}.ics"


def replace_file(path: Path, text: str) -> None:
    """Write like an editor that saves by rename (a new inode), so the change is always seen."""
    tmp = path.with_name(path.name + ".new")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def expected_events(config: Path, person: str) -> int:
    """Today's plan and the past stretch before it (`past`, 4 weeks): what a subscriber keeps."""
    team = load(config)
    today = date.fromisoformat(TODAY)
    past = past_stretch(team, today)
    planned = make_plan(team, today).for_person(person)
    assert past is not None and past.since == today - timedelta(weeks=4)
    return len(planned) + len([e for e in past.for_person(person) if e.uid not in {p.uid for p in planned}])


# ------------------------------------------------------------------------------------------------


def test_health_answers_with_a_small_json_status(server):
    reply = server.get("/healthz")
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    doc = json.loads(reply.body)
    assert doc["status"] == "ok" and doc["config_ok"] is True and doc["tokens_ok"] is True
    assert doc["people"] == 5 and doc["feeds"] == 5 and doc["today"] == TODAY
    assert doc["loaded_at"]


@pytest.mark.parametrize("person", PEOPLE)
def test_each_person_gets_a_valid_publish_feed_with_their_token(server, tokens, team_dir, person):
    reply = server.get(feed_path(person, tokens[person]))
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/calendar; charset=utf-8"
    assert int(reply.headers["content-length"]) == len(reply.body)
    body = reply.body
    text = body.decode("utf-8")

    # RFC 5545 form: CRLF everywhere, lines folded at 75 octets
    assert body.endswith(b"\r\n") and b"\n" not in body.replace(b"\r\n", b"")
    assert max(len(line) for line in body.split(b"\r\n")) <= 75

    lines = text.split("\r\n")
    assert lines[:2] == ["BEGIN:VCALENDAR", "VERSION:2.0"] and any(line.startswith("PRODID:") for line in lines)
    assert "METHOD:PUBLISH" in lines
    assert "X-PUBLISHED-TTL:PT12H" in lines                       # an RFC 5545 duration for Outlook
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT12H" in lines
    assert any(line.startswith("X-WR-CALNAME:") for line in lines)
    assert "ATTENDEE" not in text and "ORGANIZER" not in text     # PUBLISH: no scheduling properties
    assert not any(line.startswith("X-WR-TIMEZONE") for line in lines)

    calendar = icalendar.Calendar.from_ical(body)
    events = calendar.walk("VEVENT")
    assert len(events) == expected_events(team_dir / "team.yaml", person) > 0
    tzids = {tz["tzid"] for tz in calendar.walk("VTIMEZONE")}
    assert tzids and "RDATE" not in text                          # yearly rules: Outlook mis-reads RDATE lists
    for event in events:
        for name in ("uid", "dtstamp", "dtstart", "dtend", "summary"):
            assert name in event
        assert event.decoded("dtstamp").isoformat() == f"{TODAY}T00:00:00+00:00"
        assert int(event.get("sequence", 0)) == 0
        alarms = event.walk("VALARM")
        assert len(alarms) <= 1                                   # Outlook keeps at most one
        for alarm in alarms:
            assert str(alarm["action"]) == "DISPLAY"
            assert isinstance(alarm.decoded("trigger"), timedelta)   # relative
        start = event["dtstart"]
        if "TZID" in start.params:
            assert start.params["TZID"] in tzids
        if isinstance(event.decoded("dtstart"), date) and not hasattr(event.decoded("dtstart"), "hour"):
            assert event.decoded("dtend") > event.decoded("dtstart")    # all day: exclusive end

    parsed = IcsCalendarStream.calendar_from_ics(text)           # an independent parser
    assert parsed.method == "PUBLISH"
    assert parsed.refresh_interval == timedelta(hours=12)
    assert len(parsed.events) == len(events)
    assert {e.uid for e in parsed.events} == {str(e["uid"]) for e in events}


@pytest.mark.parametrize("case", ["random", "other-person", "unknown-person", "malformed", "case-changed",
                                  "no-suffix", "empty", "traversal"])
def test_every_wrong_link_gets_the_same_404(server, tokens, case):
    wrong = new_token()
    WRONG_TOKENS.append(wrong)
    path = {
        "random": feed_path("maarten", wrong),
        "other-person": feed_path("maarten", tokens["sanne"]),
        "unknown-person": feed_path("nobody", tokens["maarten"]),
        "malformed": feed_path("maarten", "x'<script>"),
        "case-changed": feed_path("maarten", tokens["maarten"].swapcase()),
        "no-suffix": f"/feed/maarten/{tokens['maarten']}",
        "empty": "/feed/maarten/.ics",
        "traversal": f"/feed/maarten/../sanne/{tokens['sanne']}.ics",
    }[case]
    reference = server.get("/no-such-page")
    reply = server.get(path)
    assert reply.status == 404
    assert reply.body == reference.body == b"not found\n"
    assert {k: v for k, v in reply.headers.items() if k != "date"} == \
           {k: v for k, v in reference.headers.items() if k != "date"}
    for token in [wrong, *tokens.values()]:
        assert token.encode() not in reply.body


def test_wrong_links_are_logged_at_most_once_a_minute_per_client(server):
    before = server.log().count("not found for 127.0.0.1")
    for _ in range(20):
        wrong = new_token()
        WRONG_TOKENS.append(wrong)
        assert server.get(feed_path("maarten", wrong)).status == 404
    time.sleep(0.2)
    assert server.log().count("not found for 127.0.0.1") - before <= 1


def test_a_repeat_with_if_none_match_gets_304_and_head_works(server, tokens):
    path = feed_path("maarten", tokens["maarten"])
    first = server.get(path)
    etag = first.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{20,}"', etag)                  # strong, quoted
    assert first.headers["cache-control"].startswith("private, max-age=")
    modified = parsedate_to_datetime(first.headers["last-modified"])
    assert modified.tzinfo is not None

    again = server.get(path, headers={"If-None-Match": etag})
    assert again.status == 304 and again.body == b""
    assert again.headers["etag"] == etag
    assert server.get(path, headers={"If-None-Match": f'"nope", W/{etag}'}).status == 304
    assert server.get(path, headers={"If-None-Match": '"something-else"'}).status == 200

    head = server.get(path, method="HEAD")
    assert head.status == 200 and head.body == b""
    assert head.headers["content-length"] == str(len(first.body))
    assert head.headers["etag"] == etag
    assert head.headers["content-type"] == "text/calendar; charset=utf-8"


def test_other_methods_get_405_and_unknown_paths_404(server, tokens):
    for method in ("POST", "PUT", "DELETE", "PROPFIND", "OPTIONS"):
        reply = server.get(feed_path("maarten", tokens["maarten"]), method=method)
        assert reply.status == 405, method
        assert reply.headers["allow"] == "GET, HEAD"
    for path in ("/", "/feed", "/feed/", "/feed/maarten", "/favicon.ico", "/healthz/x"):
        assert server.get(path).status == 404, path


def test_identical_input_gives_identical_bytes_also_from_a_second_process(server, tokens, team_dir):
    path = feed_path("ad", tokens["ad"])
    one, two = server.get(path), server.get(path)
    assert one.status == two.status == 200
    assert one.body == two.body and one.headers["etag"] == two.headers["etag"]
    other = start_server(team_dir / "team.yaml", team_dir / "server2.log")
    try:
        three = other.get(path)
    finally:
        other.stop()
    assert three.status == 200
    assert three.body == one.body
    assert three.headers["etag"] == one.headers["etag"]


def test_rotating_a_token_while_serving_ends_the_old_link_at_once(server, tokens, team_dir):
    old = tokens["maarten"]
    before = server.get(feed_path("maarten", old))
    assert before.status == 200
    result = run_cli("feed-token", "rotate", "maarten", "--config", str(team_dir / "team.yaml"))
    assert result.returncode == 0, result.stderr
    urls = re.findall(r"http://127\.0\.0\.1:8080/feed/maarten/([A-Za-z0-9_-]+)\.ics", result.stdout)
    assert len(urls) == 1 and f"webcal://127.0.0.1:8080/feed/maarten/{urls[0]}.ics" in result.stdout
    new = urls[0]
    OLD_TOKENS.append(old)
    tokens["maarten"] = new                                        # for the tests after this one
    assert server.get(feed_path("maarten", old)).status == 404
    after = server.get(feed_path("maarten", new))
    assert after.status == 200 and after.body == before.body
    assert server.get(feed_path("sanne", tokens["sanne"])).status == 200   # the others keep theirs


def test_editing_the_config_changes_the_feed_without_a_restart(server, tokens, team_dir):
    config = team_dir / "team.yaml"
    original = config.read_text(encoding="utf-8")
    path = feed_path("sanne", tokens["sanne"])
    before = server.get(path)
    assert before.status == 200 and b"T140000" in before.body     # Bel-uurtje at 14:00
    edited = original.replace('prefer: {weekday: thu, start: "14:00"}', 'prefer: {weekday: thu, start: "15:00"}')
    assert edited != original
    try:
        replace_file(config, edited)
        after = server.get(path, headers={"If-None-Match": before.headers["etag"]})
        assert after.status == 200                                  # not a 304: it changed
        assert after.headers["etag"] != before.headers["etag"]
        assert after.body != before.body
        assert b"T150000" in after.body
    finally:
        replace_file(config, original)
    back = server.get(path)
    assert back.body == before.body and back.headers["etag"] == before.headers["etag"]


def test_logging_a_contact_changes_the_feed_without_a_restart(server, tokens, team_dir):
    log = team_dir / "contacts-log.yaml"
    original = log.read_text(encoding="utf-8")
    path = feed_path("jan-willem", tokens["jan-willem"])
    before = server.get(path)
    try:
        replace_file(log, original + "- {who: jan-willem, with: Gerrit de Boer, on: 2026-11-23, next: 2027-06-01}\n")
        after = server.get(path)
        assert after.status == 200 and after.headers["etag"] != before.headers["etag"]
        assert b"DTSTART;TZID=Europe/Amsterdam:20270601T" in after.body
    finally:
        replace_file(log, original)
    assert server.get(path).body == before.body


def test_a_broken_config_keeps_the_last_good_feed_and_healthz_says_503(server, tokens, team_dir):
    config = team_dir / "team.yaml"
    original = config.read_text(encoding="utf-8")
    path = feed_path("fatima", tokens["fatima"])
    before = server.get(path)
    assert before.status == 200
    try:
        replace_file(config, original.replace("timezone: Europe/Amsterdam", "timezone: Europe/Amsterdm")
                     + "\ncontacts: [\n")
        during = server.get(path)
        assert during.status == 200 and during.body == before.body
        health = server.get("/healthz")
        assert health.status == 503
        doc = json.loads(health.body)
        assert doc["status"] == "error" and doc["config_ok"] is False and doc["error"]
        assert doc["people"] == 5                                   # still serving the last good plan
    finally:
        replace_file(config, original)
    assert server.get("/healthz").status == 200
    assert server.get(path).body == before.body


def test_a_damaged_token_file_serves_no_feed_until_repaired(server, tokens, team_dir):
    token_file = team_dir / ".kalender-sync-feeds.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    saved = team_dir / "tokens.saved"
    shutil.copy2(token_file, saved)
    path = feed_path("ad", tokens["ad"])
    try:
        replace_file(token_file, "{damaged")
        reply = server.get(path)
        assert reply.status == 503 and tokens["ad"].encode() not in reply.body     # fails closed
        assert server.get(feed_path("ad", new_token())).body == reply.body          # same for every link
        health = server.get("/healthz")
        assert health.status == 503 and json.loads(health.body)["tokens_ok"] is False
    finally:
        os.replace(saved, token_file)
    assert server.get(path).status == 200
    assert server.get("/healthz").status == 200


def test_the_server_listens_on_127_0_0_1_only(server):
    # 127.0.0.2 is loopback too: a server bound to 0.0.0.0 would answer there
    with socket.socket() as s:
        s.settimeout(2)
        assert s.connect_ex(("127.0.0.2", server.port)) != 0
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not tables[0].exists():
        pytest.skip("no /proc/net/tcp to read the listening address from")
    listening = []
    for table in tables:
        if not table.exists():
            continue
        for row in table.read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            address, port = local.rsplit(":", 1)
            if state == "0A" and int(port, 16) == server.port:
                listening.append(address)
    assert listening == ["0100007F"]                              # 127.0.0.1, nothing else


def test_the_feed_keeps_the_past_stretch_without_alarms(server, tokens):
    """Last week's reminders stay in a subscribed calendar: `past` (4 weeks) before today."""
    today = date.fromisoformat(TODAY)
    since = today - timedelta(weeks=4)

    def day(event) -> date:
        start = event.decoded("dtstart")
        return start.date() if hasattr(start, "hour") else start

    for person in PEOPLE:
        events = icalendar.Calendar.from_ical(server.get(feed_path(person, tokens[person])).body).walk("VEVENT")
        past = [e for e in events if day(e) < today]
        assert past, person
        assert min(day(e) for e in events) >= since
        assert all(not e.walk("VALARM") for e in past)             # an alarm for the past only fires late
        assert any(e.walk("VALARM") for e in events if day(e) >= today)
    ad = icalendar.Calendar.from_ical(server.get(feed_path("ad", tokens["ad"])).body).walk("VEVENT")
    assert ("Netwerken op de agenda van het teamoverleg", date(2026, 11, 2)) in {(str(e["summary"]), day(e))
                                                                                for e in ad}


def test_serve_says_when_links_from_rotate_would_not_reach_it(server):
    """The module's server runs on --port PORT while feed.listen is the default 8080."""
    log = server.log()
    assert f"feed links here start with http://127.0.0.1:{server.port}/feed/" in log
    assert ("links made by `kalender-sync feed-token rotate` use feed.listen (http://127.0.0.1:8080), not this "
            f"server's address: give it the same --port {server.port}") in log


def test_the_server_log_contains_no_token(server, tokens):
    time.sleep(0.2)
    log = server.log()
    assert '"GET /feed/maarten/***"' in log                        # the access log is there, redacted
    assert "not found for 127.0.0.1" in log
    secrets_sent = [*tokens.values(), *OLD_TOKENS, *WRONG_TOKENS]
    assert len(secrets_sent) > 30
    for token in secrets_sent:
        assert token not in log
        assert token[:20] not in log
    assert not re.search(r"[A-Za-z0-9_-]{32,}", log)


def test_last_modified_is_never_later_than_date(team_dir, tokens):
    """RFC 9110 §8.8.2.1: a Last-Modified later than the response's Date must not be sent. The
    WSGI server stamps Date when the request arrives; a plan made while answering (the first
    request of a day, or after an edit) took long enough to put Last-Modified a second later."""
    import threading

    from kalender_sync.storage.feedtokens import TokenStore
    from kalender_sync.targets.feed import FeedApp, create_server

    app = FeedApp(team_dir / "team.yaml", TokenStore(team_dir / ".kalender-sync-feeds.json"),
                  date.fromisoformat(TODAY))
    render, slow = app.plans.feed, {"ad"}

    def slow_render(person):          # a first plan that takes over a second, as on a large team
        if person in slow:
            slow.discard(person)
            time.sleep(1.1)
        return render(person)

    app.plans.feed = slow_render
    srv = create_server(app, HOST, 0, threads=1)
    stopping = threading.Event()

    def serve():
        # srv.close() from this thread can pull the socket from under the server's select():
        # an EBADF then is the stop, not a failure.
        try:
            srv.run()
        except OSError:
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        seen = []
        for person in ("ad", "sanne"):                  # made slowly, then at once
            reply = request(srv.effective_port, feed_path(person, tokens[person]))
            assert reply.status == 200
            sent, modified = (parsedate_to_datetime(reply.headers[h]) for h in ("date", "last-modified"))
            seen.append((person, sent, modified))
            assert modified <= sent, (person, reply.headers["last-modified"], reply.headers["date"])
            again = request(srv.effective_port, feed_path(person, tokens[person]),
                            headers={"If-None-Match": reply.headers["etag"]})
            assert again.status == 304
            assert parsedate_to_datetime(again.headers["last-modified"]) <= parsedate_to_datetime(again.headers["date"])
        assert len(seen) == 2
    finally:
        stopping.set()
        srv.close()
        thread.join(timeout=STOP_TIMEOUT)
