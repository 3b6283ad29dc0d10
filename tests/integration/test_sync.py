"""CalDAV sync against real Radicale and Xandikos: the contract every server must pass."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar

from kalender_sync.storage.status import State
from kalender_sync.engine.runs import context_for
from kalender_sync.engine.sync import calendar_jobs, purge_calendar, shard_of
from helpers import HOLIDAYS_PROBE
from teamkit import SATURDAY, Team, done, foreign_event

pytestmark = pytest.mark.integration


@pytest.fixture
def team(caldav_server, tmp_path):
    return Team(caldav_server, tmp_path)



def test_first_sync_creates_everything_and_a_second_sync_writes_nothing(team):
    the_plan, results, log = team.sync()
    assert not [f for r in results for f in r.failures]
    assert len(the_plan.events) >= 200
    assert done(results, "create") == len(the_plan.events) == log.counts["PUT"]
    for person in team.people:
        uids = team.uids(person)
        assert sorted(uids) == sorted(e.uid for e in the_plan.for_person(person))
    _, again, log2 = team.sync()
    assert log2.writes == 0 and done(again, "keep") == len(the_plan.events)
    assert log2.counts == {"REPORT": len(team.people)}   # one sync-collection REPORT per calendar
    _, next_day, log3 = team.sync(SATURDAY + timedelta(days=1))
    assert log3.writes == 0, next_day


def test_foreign_events_are_never_touched(team):
    hrefs = {}
    for index in range(25):
        href = team.urls["anna"] + f"foreign-{index}.ics"
        reply = team.server.request("PUT", href, foreign_event(index, spoof=index % 5 == 0),
                                    {"If-None-Match": "*", "Content-Type": "text/calendar"})
        assert reply.status in (201, 204)
        hrefs[href] = reply.headers.get("etag")
    before = {h: v for h, v in team.objects("anna").items() if h in hrefs}
    assert len(before) == 25
    team.sync()
    team.write(contacts_per_person=10)           # a re-plan that deletes many of our events
    _, results, _ = team.sync(force_delete=True)
    assert done(results, "delete") > 0
    team_model = team.load()
    db = State(team.state_path)
    for job in calendar_jobs(team_model):
        purged = purge_calendar(job, db, context_for(team_model, team.path))
        assert not purged.failures, purged.failures
    after = team.objects("anna")
    assert {h: after[h] for h in hrefs} == before      # byte- and ETag-identical
    assert set(after) == set(hrefs)                    # and everything of ours is gone


def test_user_edits_survive_and_deleted_events_are_not_recreated(team):
    the_plan, _, _ = team.sync()
    objects = team.objects("anna")
    edited = {}
    for href, (etag, body) in list(objects.items())[:10]:
        calendar = Calendar.from_ical(body)
        event = calendar.walk("VEVENT")[0]
        event["summary"] = "Verzet: " + str(event["summary"])
        start = event.decoded("dtstart")
        event["dtstart"].dt = start + timedelta(hours=1) if isinstance(start, datetime) else start
        new_body = calendar.to_ical()
        reply = team.server.request("PUT", href, new_body, {"If-Match": etag, "Content-Type": "text/calendar"})
        assert reply.status in (200, 204), reply
        edited[href] = team.server.request("GET", href).body
    deleted_href, (deleted_etag, _) = list(objects.items())[10]
    assert team.server.request("DELETE", deleted_href, headers={"If-Match": deleted_etag}).status in (200, 204)
    # A change in the config that touches every event's description: edited ones must stay.
    team.path.write_text(team.path.read_text().replace("team: Sync test", "team: Sync test"), encoding="utf-8")
    _, results, log = team.sync()
    after = team.objects("anna")
    for href, body in edited.items():
        assert after[href][1] == body
    assert deleted_href not in after
    assert log.writes == 0
    assert done(results, "conflict") == 10 and done(results, "skip") == 1


def test_a_changed_source_updates_with_if_match_and_a_higher_sequence(team):
    team.sync()
    team.path.write_text(team.path.read_text().replace('start: "14:00"', 'start: "15:00"'), encoding="utf-8")
    the_plan, results, log = team.sync()
    sessions = [e for e in the_plan.events if e.kind == "session"]
    assert done(results, "update") == len(sessions) == log.counts["PUT"]
    bodies = [Calendar.from_ical(b).walk("VEVENT")[0] for _, b in team.objects("anna").values()]
    moved = [e for e in bodies if str(e["summary"]) == "Bel-uurtje"]
    assert moved and all(e.decoded("dtstart").hour == 15 and int(e["sequence"]) == 1 for e in moved)


def test_a_lost_status_database_causes_no_duplicates_and_no_writes(team):
    the_plan, _, _ = team.sync()
    team.state_path.unlink()
    for suffix in ("-wal", "-shm"):
        Path(str(team.state_path) + suffix).unlink(missing_ok=True)
    _, results, log = team.sync()
    assert log.writes == 0 and done(results, "keep") == len(the_plan.events)
    uids = [uid for person in team.people for uid in team.uids(person)]
    assert len(uids) == len(set(uids)) == len(the_plan.events)


def test_a_plan_that_deletes_everything_is_refused_without_force(team):
    team.sync()
    team.write(contacts_per_person=0, extra="")
    text = team.path.read_text().split("sessions:")[0]
    team.path.write_text(text, encoding="utf-8")
    _, results, log = team.sync()
    assert all(r.refused for r in results) and log.writes == 0
    _, results, log = team.sync(force_delete=True)
    assert log.counts["DELETE"] > 0 and not any(r.refused for r in results)
    assert team.uids("anna") == []


def test_dry_run_equals_plan_and_writes_nothing(team):
    team.sync()
    team.path.write_text(team.path.read_text().replace('start: "14:00"', 'start: "15:00"'), encoding="utf-8")
    env = dict(os.environ, PYTHONUTF8="1")
    common = ["--config", str(team.path), "--today", SATURDAY.isoformat(), "--state", str(team.state_path)]
    planned = subprocess.run([sys.executable, "-m", "kalender_sync", "plan", "--format", "json", *common],
                             capture_output=True, text=True, env=env, timeout=120)
    dry = subprocess.run([sys.executable, "-m", "kalender_sync", "sync", "--dry-run", "--format", "json", *common],
                         capture_output=True, text=True, env=env, timeout=120)
    assert planned.returncode == dry.returncode == 0, planned.stderr + dry.stderr
    assert json.loads(planned.stdout)["people"] == json.loads(dry.stdout)["people"]
    counts = {p["id"]: p["changes"] for p in json.loads(planned.stdout)["people"]}
    assert all(c["update"] == 12 for c in counts.values())
    real = subprocess.run([sys.executable, "-m", "kalender_sync", "sync", *common], capture_output=True,
                          text=True, env=env, timeout=120)
    assert real.returncode == 0, real.stderr
    summary = json.loads(real.stdout)      # not a terminal: a JSON summary
    assert all(c["done"].get("update") == 12 for c in summary["calendars"])
    assert "not-a-secret" not in planned.stdout + dry.stdout + real.stdout + real.stderr


def test_shards_split_the_people_without_overlap(team):
    model = team.load()
    everyone = {j.person.id for j in calendar_jobs(model)}
    parts = [{j.person.id for j in calendar_jobs(model, shard=(i, 3))} for i in (1, 2, 3)]
    assert set().union(*parts) == everyone
    assert sum(len(p) for p in parts) == len(everyone)
    assert all(shard_of(p, 3) == i for i, part in zip((1, 2, 3), parts) for p in part)


def test_the_password_never_reaches_the_state_database(team):
    team.sync()
    assert b"not-a-secret" not in team.state_path.read_bytes()


def test_every_write_carries_a_precondition_on_strict_radicale(strict_radicale, tmp_path):
    """Radicale with strict_preconditions answers 412 to any overwrite without If-Match."""
    team = Team(strict_radicale, tmp_path, people=("anna", "bram"))
    _, first, _ = team.sync()
    team.path.write_text(team.path.read_text().replace('start: "14:00"', 'start: "15:00"'), encoding="utf-8")
    _, second, log = team.sync()
    team.write(contacts_per_person=3)
    _, third, log3 = team.sync()
    for results in (first, second, third):
        assert not [f for r in results for f in r.failures]
    assert done(second, "update") == 24 and log.counts["PUT"] == 24
    assert done(third, "delete") > 0 and log3.counts["DELETE"] == done(third, "delete")
    # No 412 was met and repaired by a re-read (GET): every write was right the first time.
    assert "GET" not in log.counts and "GET" not in log3.counts


def test_a_stale_sync_token_falls_back_to_a_full_listing(team):
    the_plan, _, _ = team.sync()
    db = State(team.state_path)
    with db.transaction():
        db.db.execute("UPDATE calendars SET sync_token = 'http://example.invalid/sync/stale'")
    db.close()
    _, results, log = team.sync()
    assert not any(r.failures for r in results)
    assert log.writes == 0 and done(results, "keep") == len(the_plan.events)
    # The refused token, then a full listing of ETags that are all known: nothing to fetch.
    assert log.counts["REPORT"] == 2 * len(team.people)


def test_a_server_that_keeps_failing_exits_1_and_names_who_is_not_done(caldav_server, tmp_path):
    """Every request fails: nothing was done anywhere, so it is a failure (1), not 'partly' (3)."""
    from support.proxies import FaultProxy
    team = Team(caldav_server, tmp_path, people=("anna", "bram"))
    env = dict(os.environ, PYTHONUTF8="1")
    command = [sys.executable, "-m", "kalender_sync", "sync", "--config", str(team.path), "--today",
               SATURDAY.isoformat(), "--state", str(team.state_path)]
    with FaultProxy(caldav_server.url, rate=1.0, faults=("error500",)) as proxy:
        team.route_through(proxy)
        failed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        assert failed.returncode == 1
        assert "nothing was synced; not finished for: anna, bram" in failed.stderr
        assert "HTTP 500 after 4 attempts" in failed.stdout
        proxy.rate = 0.0
        fine = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        assert fine.returncode == 0, fine.stderr


def test_a_stopped_server_exits_1_and_says_no_calendar_could_be_read(tmp_path):
    """The server that held the calendars is down: no 'nothing to do', no 'partly failed'."""
    from support import servers
    from support.cli import run_in_process
    from support.servers import CalDAVTarget
    server = servers.start("radicale", tmp_path / "server")
    try:
        dav = CalDAVTarget(server, "stopped")
        team = Team(dav, tmp_path, people=("anna", "bram"), contacts_per_person=2)
        common = ["--config", str(team.path), "--today", SATURDAY.isoformat(), "--state", str(team.state_path)]
        assert run_in_process("sync", *common).returncode == 0
        dav.close()
    finally:
        server.stop()
    table = run_in_process("sync", "--format", "table", *common)
    assert table.returncode == 1, table.stdout + table.stderr
    assert "nothing to do" not in table.stdout
    for person in ("anna", "bram"):
        assert f"{person} → {team.urls[person]}: could not be read\n  FAILED: listing failed:" in table.stdout
    assert "error: nothing was synced; not finished for: anna, bram" in table.stderr
    summary = run_in_process("sync", "--format", "json", *common)
    assert summary.returncode == 1
    assert [c["read"] for c in json.loads(summary.stdout)["calendars"]] == [False, False]
    for command in (["plan"], ["sync", "--dry-run", "--format", "table"]):
        predicted = run_in_process(*command, *common)
        assert predicted.returncode == 1, predicted.stderr
        assert predicted.stdout.count("could not be read") == 2


def test_some_calendars_finished_exits_3_and_the_unread_one_is_not_nothing_to_do(radicale_caldav, tmp_path):
    """Bram's calendar is on a closed port, Anna's on a running server: partly done (3)."""
    from support.cli import run_in_process
    from support.servers import free_port
    team = Team(radicale_caldav, tmp_path, people=("anna", "bram"), contacts_per_person=2)
    text = team.path.read_text(encoding="utf-8")
    closed = f"http://127.0.0.1:{free_port()}/{{person}}/"
    text = text.replace("calendars:\n", f'calendars:\n  gone: {{caldav: "{closed}", username: alice, '
                                         'password_env: KS_TEST_CALDAV_PASSWORD}\n', 1)
    team.path.write_text(text.replace("bram: {name: Bram, calendar: dav}", "bram: {name: Bram, calendar: gone}"),
                         encoding="utf-8")
    common = ["--config", str(team.path), "--today", SATURDAY.isoformat(), "--state", str(team.state_path)]
    result = run_in_process("sync", "--format", "table", *common)
    assert result.returncode == 3, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("anna → ") and "create" in line for line in lines)
    assert any(line.startswith("bram → ") and line.endswith(": could not be read") for line in lines)
    assert "nothing to do" not in result.stdout
    assert "error: not finished for: bram" in result.stderr
    again = run_in_process("sync", "--format", "table", *common)       # Anna is done: nothing to do there
    assert again.returncode == 3 and "nothing was synced" not in again.stderr
    planned = run_in_process("plan", *common)
    assert planned.returncode == 3 and planned.stdout.count("could not be read") == 1


def test_a_reminder_marked_done_in_the_calendar_is_logged_once(radicale_caldav, tmp_path):
    """Calendar-side completion over real Radicale: '✓' in the title logs the contact, once."""
    team = Team(radicale_caldav, tmp_path, people=("anna", "bram"))
    the_plan, _, _ = team.sync()
    reminder = next(e for e in the_plan.for_person("anna") if e.kind == "contact")
    href, (etag, body) = next((h, v) for h, v in team.objects("anna").items()
                              if reminder.uid.encode() in v[1])
    calendar = Calendar.from_ical(body)
    event = calendar.walk("VEVENT")[0]
    event["summary"] = "✓ " + str(event["summary"])
    assert team.server.request("PUT", href, calendar.to_ical(),
                               {"If-Match": etag, "Content-Type": "text/calendar"}).status in (200, 204)
    env = dict(os.environ, PYTHONUTF8="1")
    command = [sys.executable, "-m", "kalender_sync", "sync", "--config", str(team.path), "--today",
               SATURDAY.isoformat(), "--state", str(team.state_path), "--format", "json"]
    first = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert first.returncode == 0, first.stderr
    log_file = team.path.with_name("contacts-log.yaml")
    agreement = reminder.key.split("/")[2]
    lines = [line for line in log_file.read_text(encoding="utf-8").splitlines() if line.startswith("- ")]
    assert len(lines) == 1 and f"with: {agreement}" in lines[0] and "who: anna" in lines[0]
    logged_on = min(reminder.day, SATURDAY)
    assert f"on: {logged_on.isoformat()}" in lines[0]
    notes = [n for c in json.loads(first.stdout)["calendars"] for n in c["notes"]]
    assert any("marked done" in n for n in notes)
    # The marked event stays as the person left it; the next reminder comes from the new date.
    assert team.server.request("GET", href).body.decode().count("✓") == 1
    new_plan = plan_for(team)
    nxt = [e for e in new_plan.for_person("anna") if e.key.split("/")[2] == agreement]
    assert nxt and all(e.uid != reminder.uid for e in nxt)
    second = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert second.returncode == 0, second.stderr
    again = [line for line in log_file.read_text(encoding="utf-8").splitlines() if line.startswith("- ")]
    assert again == lines                                    # logged once, not twice


def plan_for(team):
    from kalender_sync.core.planning import plan
    from kalender_sync.storage.teamfiles import load
    return plan(load(team.path), SATURDAY)


@pytest.fixture
def radicale_caldav(request, radicale_server):
    from support.servers import CalDAVTarget
    target = CalDAVTarget(radicale_server, request.node.name)
    yield target
    target.close()


def test_a_no_op_sync_takes_public_holidays_from_the_status_db(radicale_caldav, tmp_path):
    """The holidays library costs a quarter of a no-op sync's start-up; its answers are kept
    in the status DB for the installed version, and a changed version asks again."""
    import sqlite3
    team = Team(radicale_caldav, tmp_path, people=("anna",))
    # Without the per-user cache (storage.holidaycache): this is about the status DB's own memo.
    env = dict(os.environ, PYTHONUTF8="1", KALENDER_SYNC_CACHE_DIR="off")
    command = [sys.executable, "-c", HOLIDAYS_PROBE, "sync", "--config", str(team.path), "--today", SATURDAY.isoformat(),
               "--state", str(team.state_path), "--format", "json"]
    first = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "holidays imported: True" in first.stderr
    memo = json.loads(sqlite3.connect(team.state_path).execute(
        "SELECT value FROM meta WHERE key = 'holidays'").fetchone()[0])
    import holidays
    years = {y for c, s, y, _ in memo["dates"]}
    assert years and all(sorted(d) == sorted(x.isoformat() for x in holidays.country_holidays(c, subdiv=s, years=[y]))
                         for c, s, y, d in memo["dates"])
    again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "holidays imported: False" in again.stderr
    assert set(json.loads(again.stdout)["calendars"][0]["done"]) == {"keep"}
    # Another library version: the memo is not trusted, the library is asked and the memo renewed.
    db = sqlite3.connect(team.state_path)
    db.execute("UPDATE meta SET value = ? WHERE key = 'holidays'", (json.dumps(memo | {"version": "0.0.1"}),))
    db.commit()
    db.close()
    third = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert third.returncode == 0 and "holidays imported: True" in third.stderr
    assert set(json.loads(third.stdout)["calendars"][0]["done"]) == {"keep"}
    renewed = sqlite3.connect(team.state_path).execute("SELECT value FROM meta WHERE key = 'holidays'").fetchone()[0]
    assert json.loads(renewed)["version"] == holidays.__version__


def test_one_sync_carries_the_plan_into_files_and_caldav_alike(radicale_caldav, tmp_path):
    """A mixed team, one cron line: the .ics files get what `export` would write, the CalDAV
    calendars what they always got, and a second run writes nothing anywhere."""
    from support.cli import run_in_process
    team = Team(radicale_caldav, tmp_path, people=("anna", "bram"))
    text = team.path.read_text(encoding="utf-8")
    text = text.replace("calendars:\n", 'calendars:\n  files: {ics: "out/{person}.ics"}\n', 1)
    text = text.replace("bram: {name: Bram, calendar: dav}", "bram: {name: Bram, calendar: files}")
    team.path.write_text(text, encoding="utf-8")
    common = ["--config", str(team.path), "--today", SATURDAY.isoformat(), "--state", str(team.state_path)]
    first = run_in_process("sync", "--format", "json", *common)
    assert first.returncode == 0, first.stderr
    calendars = {c["person"]: c for c in json.loads(first.stdout)["calendars"]}
    assert calendars["bram"]["target"].endswith("out/bram.ics") and calendars["bram"]["done"]["create"] > 5
    assert calendars["anna"]["done"]["create"] > 5 and team.uids("anna")
    written = (tmp_path / "out" / "bram.ics").read_bytes()
    exported = run_in_process("export", "--config", str(team.path), "--today", SATURDAY.isoformat(),
                              "--out", str(tmp_path / "exported"), "--person", "bram")
    assert exported.returncode == 0, exported.stderr
    assert written == (tmp_path / "exported" / "bram.ics").read_bytes()
    mtime = (tmp_path / "out" / "bram.ics").stat().st_mtime_ns
    again = run_in_process("sync", "--format", "json", *common)
    assert again.returncode == 0, again.stderr
    assert all(set(c["done"]) == {"keep"} for c in json.loads(again.stdout)["calendars"])
    assert (tmp_path / "out" / "bram.ics").stat().st_mtime_ns == mtime
