"""The index of exported files (.kalender-sync-index.json): unchanged files are not parsed again,
and whatever happens to the index, the plan is the one parsing the files gives."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from icalendar import Calendar

import kalender_sync.targets.files as icsfile
from kalender_sync.cli import cli
from kalender_sync.targets.base import Item
from kalender_sync.targets.icsindex import INDEX_NAME, VERSION, FolderIndex, decode, encode

from helpers import EXAMPLE

TODAY = "2026-11-24"


@pytest.fixture
def changed(tmp_path_factory) -> Path:
    """The example, changed so that a plan against its export creates, updates, deletes and keeps."""
    folder = tmp_path_factory.mktemp("changed")
    config = folder / EXAMPLE.name
    config.write_text(EXAMPLE.read_text().replace("location: Den Bosch", "location: Vught"))
    log = EXAMPLE.with_name("contacts-log.yaml").read_text()
    (folder / "contacts-log.yaml").write_text(
        log + "- {who: maarten, with: Piet de Vries, on: 2026-11-23, next: 2027-02-01}\n")
    return config


def invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def export(out: Path, config: Path = EXAMPLE, *more: str) -> str:
    return invoke("export", "--config", str(config), "--today", TODAY, "--out", str(out), *more)


def plan(out: Path, config: Path = EXAMPLE) -> dict:
    return json.loads(invoke("plan", "--config", str(config), "--today", TODAY, "--out", str(out),
                             "--format", "json"))


def without_paths(text: str, out: Path) -> str:
    return text.replace(str(out), "OUT")


def without_targets(doc: dict) -> dict:
    return {**doc, "people": [{**p, "target": None} for p in doc["people"]]}


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


class Parses:
    """What was parsed with icalendar: file names (by X-WR-CALNAME) and Calendar.from_ical calls."""

    def __init__(self):
        self.files: list[str] = []
        self.from_ical = 0

    def clear(self) -> None:
        self.files.clear()
        self.from_ical = 0

    def __len__(self) -> int:
        assert self.from_ical == len(self.files)   # nothing else parses calendars behind parse_file's back
        return len(self.files)


@pytest.fixture
def parses(monkeypatch) -> Parses:
    seen = Parses()
    original_parse, original_from_ical = icsfile.parse_file, Calendar.from_ical

    def parse_file(data: bytes, zones):
        seen.files.append(re.search(rb"X-WR-CALNAME:([^\r]*)", data).group(1).decode())
        return original_parse(data, zones)

    def from_ical(*args, **kwargs):
        seen.from_ical += 1
        return original_from_ical(*args, **kwargs)

    monkeypatch.setattr(icsfile, "parse_file", parse_file)
    monkeypatch.setattr(Calendar, "from_ical", staticmethod(from_ical))
    return seen


def strict(records) -> list:
    """Records with the types of their values, in a fixed order: a 0 is not a False, "1" not 1."""
    items = records.values() if isinstance(records, dict) else records
    return sorted((r.href, r, tuple(type(getattr(r, f)).__name__ for f in r.__dataclass_fields__)) for r in items)


def assert_index_matches_parsing(folder: Path) -> int:
    index = FolderIndex(folder)
    files = sorted(folder.glob("*.ics"))
    assert files
    events = 0
    for path in files:
        data = path.read_bytes()
        parsed = icsfile.read_items(data)
        indexed = index.lookup(path.name, hashlib.sha256(data).hexdigest())
        assert indexed is not None, path.name
        assert strict(indexed) == strict(parsed), path.name
        events += len(parsed)
    return events


def test_records_from_the_index_are_those_parsing_gives(tmp_path, changed):
    export(tmp_path)
    assert assert_index_matches_parsing(tmp_path) > 50
    # What the test has to cover is there: UTC stamps as icalendar reads them, all-day ends.
    parsed = [r for p in tmp_path.glob("*.ics") for r in icsfile.read_items(p.read_bytes()).values()]
    assert all(re.fullmatch(r"\d{8}T\d{6}Z", r.stamp) for r in parsed)
    assert any(b"DTEND;VALUE=DATE:" in p.read_bytes() for p in tmp_path.glob("*.ics"))
    assert all(type(r.end) is date for r in parsed)
    # Again after an export that updates some events (SEQUENCE 1, new DTSTAMP) and keeps others.
    for path in tmp_path.glob("*.ics"):   # kept events keep their DTSTAMP: make them differ from new ones
        path.write_bytes(path.read_bytes().replace(b"DTSTAMP:20261124T000000Z", b"DTSTAMP:20261001T120000Z"))
    (tmp_path / INDEX_NAME).unlink()
    export(tmp_path, changed)
    parsed = [r for p in tmp_path.glob("*.ics") for r in icsfile.read_items(p.read_bytes()).values()]
    assert {r.sequence for r in parsed} == {0, 1}
    assert len({r.stamp for r in parsed}) == 2
    assert_index_matches_parsing(tmp_path)


def test_the_index_is_built_from_the_rendered_events_not_by_parsing(tmp_path, parses):
    export(tmp_path)
    assert len(parses) == 0
    assert json.loads((tmp_path / INDEX_NAME).read_text())["version"] == VERSION


@pytest.mark.parametrize("again", ["same config", "changed config"])
def test_a_second_plan_and_export_parse_nothing_and_change_what_parsing_would(tmp_path, parses, changed, again):
    config = EXAMPLE if again == "same config" else changed
    indexed, parsed = tmp_path / "indexed", tmp_path / "parsed"
    export(indexed)
    export(parsed)
    (parsed / INDEX_NAME).unlink()

    parses.clear()
    with_index = plan(indexed, config)
    assert len(parses) == 0
    by_parsing = plan(parsed, config)
    assert len(parses) == 5
    assert without_targets(with_index) == without_targets(by_parsing)
    if config == changed:
        counts = {a: sum(p["changes"][a] for p in with_index["people"]) for a in ("create", "update", "delete", "keep")}
        assert all(counts.values()), counts

    parses.clear()
    written_with_index = export(indexed, config)
    assert len(parses) == 0
    written_by_parsing = export(parsed, config)
    assert len(parses) == 5
    assert without_paths(written_with_index, indexed) == without_paths(written_by_parsing, parsed)
    # The same files, and the same index whether it was built from the old index or from parsing.
    assert {p.name: p.read_bytes() for p in indexed.iterdir()} == {p.name: p.read_bytes() for p in parsed.iterdir()}


def test_an_unchanged_export_does_not_rewrite_the_index(tmp_path):
    export(tmp_path)
    before = snapshot(tmp_path)
    export(tmp_path)
    assert snapshot(tmp_path) == before


def test_a_hand_edited_file_is_parsed_again_and_gives_what_parsing_gives(tmp_path, parses, changed):
    out, plain = tmp_path / "out", tmp_path / "plain"
    export(out)
    shutil.copytree(out, plain)
    (plain / INDEX_NAME).unlink()
    for folder in (out, plain):   # a new title, and SEQUENCEs as if someone's client had bumped them
        path = folder / "maarten.ics"
        data = re.sub(rb"SUMMARY:[^\r]*", b"SUMMARY:Bel Piet (verzet)", path.read_bytes(), count=1)
        path.write_bytes(data.replace(b"SEQUENCE:0", b"SEQUENCE:3"))

    parses.clear()
    edited = plan(out, changed)
    assert len(parses) == 1 and "Maarten" in parses.files[0]
    assert without_targets(edited) == without_targets(plan(plain, changed))

    parses.clear()
    assert without_paths(export(out, changed), out) == without_paths(export(plain, changed), plain)
    assert len(parses) == 1 + 5
    # Maarten's file was rewritten (a logged contact) from what was parsed: kept events kept SEQUENCE 3.
    rewritten = (out / "maarten.ics").read_bytes()
    assert b"SEQUENCE:3" in rewritten and b"SEQUENCE:0" in rewritten
    assert {p.name: p.read_bytes() for p in out.glob("*.ics")} == {p.name: p.read_bytes() for p in plain.glob("*.ics")}
    # The index now knows the new file as it is: the next run parses nothing.
    parses.clear()
    assert without_targets(plan(out, changed)) == without_targets(plan(plain, changed))
    assert len(parses) == 0
    assert_index_matches_parsing(out)


def test_a_hand_edited_file_that_export_keeps_gets_an_entry_for_its_new_bytes(tmp_path, parses):
    export(tmp_path)
    path = tmp_path / "maarten.ics"
    path.write_bytes(re.sub(rb"SUMMARY:[^\r]*", b"SUMMARY:Bel Piet (verzet)", path.read_bytes(), count=1))
    parses.clear()
    assert "0 written" in export(tmp_path)      # our marker and hash are unchanged: the file stays as edited
    assert len(parses) == 1 and "Maarten" in parses.files[0]
    parses.clear()
    plan(tmp_path)
    assert len(parses) == 0
    assert_index_matches_parsing(tmp_path)


CORRUPT = {
    "missing": None,
    "garbage": b"\x00\xff\xfe not json at all",
    "truncated": b'{"version": 1, "files": {"ad.ics": {"sha256": "',
    "other version": "other version",   # the real index, under the next version number
    "not an object": b"[1, 2, 3]",
    "files not a mapping": json.dumps({"version": VERSION, "files": ["ad.ics"]}).encode(),
    "deeply nested": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("content", CORRUPT.values(), ids=CORRUPT.keys())
def test_an_unusable_index_is_a_miss_and_export_writes_a_valid_one(tmp_path, parses, changed, content):
    out, control = tmp_path / "out", tmp_path / "control"
    export(out)
    expected_plan, expected_export = plan(out, changed), export(out)
    shutil.copytree(out, control)
    index = out / INDEX_NAME
    if content is None:
        index.unlink()
    elif content == "other version":
        index.write_text(json.dumps({**json.loads(index.read_bytes()), "version": VERSION + 1}))
    else:
        index.write_bytes(content)
    parses.clear()
    assert plan(out, changed) == expected_plan
    assert len(parses) == 5
    parses.clear()
    assert export(out) == expected_export
    assert len(parses) == 5
    doc = json.loads(index.read_bytes())
    assert doc["version"] == VERSION and sorted(doc["files"]) == sorted(p.name for p in out.glob("*.ics"))
    assert index.read_bytes() == (control / INDEX_NAME).read_bytes()
    parses.clear()
    assert plan(out, changed) == expected_plan
    assert len(parses) == 0


def test_entries_that_do_not_fit_their_file_or_are_malformed_are_misses(tmp_path, parses):
    export(tmp_path)
    expected = plan(tmp_path)
    index = tmp_path / INDEX_NAME
    doc = json.loads(index.read_bytes())
    files = doc["files"]
    files["ad.ics"]["items"][0]["sequence"] = "0"                        # right sha256, wrong type
    files["fatima.ics"]["items"][0]["stamp"] = "2026-11-24T00:00:00+00:00[No/Such_Zone]"
    files["sanne.ics"]["items"][0]["end"] = "2026-13-45"
    files["maarten.ics"]["sha256"] = "0" * 64                               # some other bytes
    del files["jan-willem.ics"]["items"][0]["uid"]
    index.write_text(json.dumps(doc))
    parses.clear()
    assert plan(tmp_path) == expected
    assert len(parses) == 5


def test_an_index_that_cannot_be_written_does_not_fail_the_export(tmp_path):
    (tmp_path / INDEX_NAME).mkdir()
    assert "5 written" in export(tmp_path)
    assert "0 written" in export(tmp_path)
    assert (tmp_path / INDEX_NAME).is_dir() and not list((tmp_path / INDEX_NAME).iterdir())
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_plan_leaves_the_folder_byte_identical(tmp_path, changed):
    export(tmp_path)
    (tmp_path / INDEX_NAME).unlink()
    before = snapshot(tmp_path)
    plan(tmp_path)
    plan(tmp_path, changed)
    invoke("plan", "--config", str(changed), "--today", TODAY, "--out", str(tmp_path))
    assert snapshot(tmp_path) == before                 # in particular: no index created
    export(tmp_path)
    before = snapshot(tmp_path)
    plan(tmp_path, changed)
    assert snapshot(tmp_path) == before


def test_export_of_some_people_keeps_the_entries_of_the_others_and_drops_removed_files(tmp_path, parses,
                                                                                        changed):
    export(tmp_path)
    (tmp_path / "ad.ics").unlink()
    sanne = tmp_path / "sanne.ics"
    sanne.write_bytes(sanne.read_bytes().replace(b"SUMMARY:", b"SUMMARY:(!) ", 1))
    export(tmp_path, changed, "--person", "maarten")
    files = json.loads((tmp_path / INDEX_NAME).read_bytes())["files"]
    # ad.ics is gone; sanne.ics was not looked at: its entry stays, and no longer fits the file.
    assert sorted(files) == ["fatima.ics", "jan-willem.ics", "maarten.ics", "sanne.ics"]
    parses.clear()
    plan(tmp_path, changed)
    assert parses.files == ["Infra & Water — Sanne Bakker"]
    for name in ("fatima.ics", "jan-willem.ics", "maarten.ics"):
        data = (tmp_path / name).read_bytes()
        assert strict(FolderIndex(tmp_path).lookup(name, hashlib.sha256(data).hexdigest())) \
            == strict(icsfile.read_items(data))


def test_the_index_does_not_depend_on_the_hash_seed(tmp_path):
    indexes = []
    for seed in ("0", "12345"):
        out = tmp_path / seed
        run = subprocess.run([sys.executable, "-m", "kalender_sync", "export", "--config", str(EXAMPLE),
                              "--today", TODAY, "--out", str(out)], capture_output=True, text=True,
                             env=dict(os.environ, PYTHONHASHSEED=seed), timeout=120)
        assert run.returncode == 0, run.stderr
        indexes.append((out / INDEX_NAME).read_bytes())
    assert indexes[0] == indexes[1]


def test_items_read_back_exactly_and_a_file_with_more_than_events_is_not_indexed(tmp_path):
    base = Item("u0", '"e"', "u0", "contact/a/b/2026-12-01/0", "h" * 32, "h" * 32, 2, "20261124T000000Z",
                date(2026, 12, 1), "Contact met Zoë")
    items = [base, replace(base, href="u1", uid="u1", key=None, written_hash=None, seen_hash=None, sequence=0,
                           stamp="", end=None, title=""), replace(base, href="u2", uid=None, etag=None)]
    assert strict(decode(json.loads(json.dumps(encode(items))))) == strict(items)
    # What would not read back the same is not indexed at all: a file with someone's VTODO is
    # parsed each time (the index knows events only, and a rewrite must keep the VTODO).
    export(tmp_path)
    path = tmp_path / "ad.ics"
    path.write_bytes(path.read_bytes().replace(b"END:VCALENDAR", b"BEGIN:VTODO\r\nUID:todo-1\r\n"
                                               b"DTSTAMP:20261101T000000Z\r\nSUMMARY:Zelf\r\nEND:VTODO\r\n"
                                               b"END:VCALENDAR"))
    export(tmp_path)
    data = path.read_bytes()
    assert FolderIndex(tmp_path).lookup("ad.ics", hashlib.sha256(data).hexdigest()) is None
    assert b"SUMMARY:Zelf" in data
