"""Exported .ics files: reproducible to the byte, parseable by two parsers, golden, compatible."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from icalendar import Calendar
from ical.calendar_stream import IcsCalendarStream

from helpers import EXAMPLE, ROOT

GOLDEN = ROOT / "tests" / "data" / "golden"
TODAY = "2026-11-24"


def export(out: Path, today: str = TODAY, config: Path = EXAMPLE, seed: str = "0") -> dict[str, bytes]:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    run = subprocess.run([sys.executable, "-m", "kalender_sync", "export", "--config", str(config),
                          "--today", today, "--out", str(out)], capture_output=True, text=True, env=env,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.ics"))}


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, bytes]:
    return export(tmp_path_factory.mktemp("export"))


def test_same_input_gives_byte_identical_files_across_processes(exported, tmp_path):
    again = export(tmp_path / "again", seed="12345")
    assert again == exported
    assert len(exported) == 5


def test_a_second_export_into_the_same_folder_writes_nothing(tmp_path):
    first = export(tmp_path)
    times = {p: p.stat().st_mtime_ns for p in tmp_path.glob("*.ics")}
    second = export(tmp_path)
    assert second == first
    assert {p: p.stat().st_mtime_ns for p in tmp_path.glob("*.ics")} == times


def test_files_match_the_golden_files(exported):
    if os.environ.get("KALENDER_SYNC_UPDATE_GOLDEN"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for name, data in exported.items():
            (GOLDEN / name).write_bytes(data)
    golden = {p.name: p.read_bytes() for p in sorted(GOLDEN.glob("*.ics"))}
    assert golden.keys() == exported.keys()
    for name in golden:
        assert exported[name] == golden[name], f"{name} differs from tests/data/golden/{name}"


def test_every_file_parses_with_icalendar_and_with_ical(exported):
    for name, data in exported.items():
        calendar = Calendar.from_ical(data)
        strict = IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))
        ours = [str(e["uid"]) for e in calendar.walk("VEVENT")]
        theirs = [e.uid for e in strict.events]
        assert ours == theirs and ours, name
        for event, parsed in zip(calendar.walk("VEVENT"), strict.events):
            assert event.decoded("dtstart") == parsed.dtstart, name


def test_compatibility_rules_hold_for_every_event(exported):
    for name, data in exported.items():
        text = data.decode("utf-8")
        calendar = Calendar.from_ical(data)
        # CRLF line endings, folded at 75 octets.
        assert "\n" not in text.replace("\r\n", "")
        assert all(len(line.encode()) <= 75 for line in text.split("\r\n")), name
        # Every TZID used has a VTIMEZONE, with yearly rules, not RDATE lists.
        declared = {str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")}
        used = set(re.findall(r";TZID=([^:;]+)[:;]", text))
        assert used and used <= declared, name
        assert "RDATE" not in text
        assert calendar["method"] == "PUBLISH"
        uids = [str(e["uid"]) for e in calendar.walk("VEVENT")]
        assert len(uids) == len(set(uids))
        for event in calendar.walk("VEVENT"):
            for required in ("uid", "dtstamp", "dtstart", "dtend", "summary", "description"):
                assert required in event, (name, required)
            assert "attendee" not in event                       # PUBLISH carries no ATTENDEE
            start, end = event.decoded("dtstart"), event.decoded("dtend")
            if hasattr(start, "hour"):
                assert start.tzinfo is not None                   # no floating times
            else:
                assert (end - start).days >= 1                    # exclusive all-day end
            alarms = event.walk("VALARM")
            assert len(alarms) <= 1
            for alarm in alarms:
                assert alarm["action"] == "DISPLAY"
                assert alarm.decoded("trigger").total_seconds() < 0   # relative, before the start
            assert str(event["x-kalender-sync-key"])


def test_all_day_events_use_value_date(exported):
    text = exported["ad.ics"].decode()
    assert re.search(r"DTSTART;VALUE=DATE:\d{8}\r\nDTEND;VALUE=DATE:\d{8}", text)


def test_the_content_hash_can_be_read_back_and_notices_edits(exported):
    from kalender_sync.core.render import HASH, observed_hash
    events = [e for data in exported.values() for e in Calendar.from_ical(data).walk("VEVENT")]
    assert events and all(observed_hash(e) == str(e[HASH]) for e in events)
    event = events[0]
    original = observed_hash(event)
    event["summary"] = "Bel Piet (verzet)"
    assert observed_hash(event) != original
    event["summary"] = events[0]["summary"]
