"""One run at a time: real `python -m kalender_sync sync` processes on one status database.

The holders are real second processes: a child holding `run_lock` as a running sync does,
or a second sync itself. A team of people with .ics files in tmp_path keeps every run local.
"""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from support.cli import CLI_TIMEOUT, run_process
from support.lockholders import HOLDER, lock_holders

TODAY = "2026-12-07"


def write_team(folder: Path, people: int) -> Path:
    """`people` consultants with six contacts each and a quarterly calling hour, all in .ics files."""
    lines = ["version: 1", "timezone: Europe/Amsterdam", "holidays: NL",
             'calendars: {files: {ics: "out/{person}.ics"}}', "people:"]
    lines += [f"  p{i:02d}: {{name: Consultant {i}, calendar: files}}" for i in range(people)]
    lines.append("contacts:")
    lines += [f"  - {{owner: p{i:02d}, with: Contact {i}-{j}, every: 3 months, last: 2026-0{1 + j}-1{j}, "
              "medium: phone}" for i in range(people) for j in range(6)]
    lines += ["sessions:",
              '  - {name: Bel-uurtje, every: quarter, participants: all, prefer: {weekday: thu, start: "14:00"}}']
    config = folder / "team.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def sync_args(config: Path, state: Path, *more: str) -> list[str]:
    return ["sync", "--config", str(config), "--today", TODAY, "--state", str(state), "--format", "json", *more]


def start_sync(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "kalender_sync", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, encoding="utf-8")


def planned_per_person(config: Path, state: Path) -> dict[str, int]:
    result = run_process("plan", "--config", str(config), "--today", TODAY, "--state", str(state), "--format", "json")
    assert result.returncode == 0, result.stderr
    return {p["id"]: len(p["events"]) for p in json.loads(result.stdout)["people"]}


def done(stdout: str, action: str) -> int:
    return sum(c["done"].get(action, 0) for c in json.loads(stdout)["calendars"])


def uids_in(path: Path) -> list[str]:
    return [line[len("UID:"):].strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.startswith("UID:")]


def assert_synced_exactly_once(config: Path, state: Path, planned: dict[str, int]) -> None:
    """Every planned event once in its person's file, and once in the status database."""
    in_files = []
    for person, count in planned.items():
        uids = uids_in(config.parent / "out" / f"{person}.ics")
        assert len(uids) == count, person
        in_files += uids
    assert len(set(in_files)) == len(in_files) == sum(planned.values())
    with sqlite3.connect(state) as db:
        recorded = [uid for (uid,) in db.execute("SELECT uid FROM events")]
    assert Counter(recorded) == Counter(in_files)


@pytest.fixture
def holder():
    """A child process holding the status database's lock, as a running sync does."""
    with lock_holders() as start:
        yield lambda state: start("-c", HOLDER, str(state), "-", "sync", "300")


def test_a_sync_gives_up_on_a_held_lock_and_runs_once_its_holder_was_killed(tmp_path, holder):
    config = write_team(tmp_path, people=2)
    state = tmp_path / "state.sqlite"
    planned = planned_per_person(config, state)
    running = holder(state)
    started = time.monotonic()
    blocked = run_process(*sync_args(config, state, "--wait", "1"))
    elapsed = time.monotonic() - started
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert blocked.stderr.startswith("error: another kalender-sync sync is running on this status database "
                                     f"(pid {running.pid} on host ")
    assert f"it holds {tmp_path / 'state.sqlite.lock'}. Waited 1 s. Run again when it has finished " \
           "(or pass --wait SECONDS)" in blocked.stderr
    assert "Traceback" not in blocked.stderr and elapsed >= 1.0
    assert not (tmp_path / "out").exists()                       # it wrote no calendar

    os.kill(running.pid, signal.SIGKILL)
    running.wait(timeout=10)
    assert (tmp_path / "state.sqlite.lock").exists()             # left behind by the killed holder
    started = time.monotonic()
    synced = run_process(*sync_args(config, state, "--wait", "1"))
    elapsed = time.monotonic() - started
    assert synced.returncode == 0, synced.stderr
    assert elapsed < 30          # starting Python and syncing two people: the stale lock cost nothing
    assert done(synced.stdout, "create") == sum(planned.values()) > 0
    assert_synced_exactly_once(config, state, planned)


def test_two_syncs_started_together_run_one_after_the_other(tmp_path):
    config = write_team(tmp_path, people=60)
    state = tmp_path / "state.sqlite"
    planned = planned_per_person(config, state)
    total = sum(planned.values())
    assert total > 500
    first = start_sync(*sync_args(config, state))
    second = start_sync(*sync_args(config, state, "--wait", "30"))
    assert first.poll() is None                                   # both are running now
    outputs = [child.communicate(timeout=CLI_TIMEOUT) for child in (first, second)]
    for child, (out, err) in zip((first, second), outputs):
        assert child.returncode == 0, err
    # One of them created every event; the other found them all done and kept them.
    assert sorted(done(out, "create") for out, _ in outputs) == [0, total]
    assert sorted(done(out, "keep") for out, _ in outputs) == [0, total]
    assert_synced_exactly_once(config, state, planned)
    assert (tmp_path / "state.sqlite.lock").read_bytes() == b""    # both finished and let go


def test_the_shards_of_one_split_run_side_by_side_on_one_status_database(tmp_path):
    config = write_team(tmp_path, people=20)
    state = tmp_path / "state.sqlite"
    planned = planned_per_person(config, state)
    shards = [start_sync(*sync_args(config, state, "--shard", f"{i}/2", "--wait", "0")) for i in (1, 2)]
    outputs = [child.communicate(timeout=CLI_TIMEOUT) for child in shards]
    for child, (out, err) in zip(shards, outputs):
        assert child.returncode == 0, err           # --wait 0: neither waited for the other
    assert sum(done(out, "create") for out, _ in outputs) == sum(planned.values())
    assert all(done(out, "create") > 0 for out, _ in outputs)
    assert_synced_exactly_once(config, state, planned)
