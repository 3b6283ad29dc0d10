"""The status database: a database made by an earlier version opens, gains what is new, keeps its rows;
runs that start together on a new one all get it, and one held by another program is called in use."""
from __future__ import annotations

import sqlite3
import threading

import pytest

from kalender_sync.core.diff import EDITED, SYNCED
from kalender_sync.storage.status import Record, State, StateError

# The events table as the first release made it (no title, no start).
FIRST_RELEASE = """CREATE TABLE events (
    calendar TEXT NOT NULL, uid TEXT NOT NULL, href TEXT NOT NULL, etag TEXT,
    hash TEXT NOT NULL, sequence INTEGER NOT NULL, stamp TEXT NOT NULL,
    status TEXT NOT NULL, key TEXT, end_day TEXT, PRIMARY KEY (calendar, uid))"""


def test_a_database_of_the_first_release_opens_and_keeps_its_records(tmp_path):
    path = tmp_path / "state.sqlite"
    db = sqlite3.connect(path)
    db.execute(FIRST_RELEASE)
    db.execute("INSERT INTO events VALUES ('cal', 'u1', 'u1.ics', '\"e1\"', 'h', 0, '20261128T000000Z', 'synced', "
               "'session/x/2026-12/anna', '2026-12-03')")
    db.commit()
    db.close()
    state = State(path)
    [old] = state.records("cal").values()
    assert (old.uid, old.status, old.key, old.end, old.title, old.start, old.moved) == (
        "u1", SYNCED, "session/x/2026-12/anna", "2026-12-03", None, None, None)
    moved = Record("cal", "u2", "u2.ics", '"e2"', "h2", 1, "20261128T000000Z", EDITED, "session/x/2027-01/anna",
                   "2027-01-07", "Verzet: Bel-uurtje", "2027-01-07T13:00:00+01:00", True)
    state.put(moved)
    state.close()
    again = State(path)
    assert again.records("cal")["u2"] == moved and again.records("cal")["u1"] == old
    again.close()


def test_runs_that_open_a_new_database_at_the_same_moment_all_get_it(tmp_path):
    # The shards of one split sync start together on one new status DB. SQLite refuses the
    # switch into WAL at once ("database is locked") while another connection makes it, so one
    # of them used to stop with "cannot be used"; threads meet there as processes do, a little
    # less often, hence the many rounds.
    failed = []
    for round_ in range(60):
        path = tmp_path / f"state-{round_}.sqlite"
        start = threading.Barrier(4)

        def open_it() -> None:
            start.wait()
            try:
                State(path).close()
            except Exception as exc:  # noqa: BLE001 - any failure is what this test looks for
                failed.append(str(exc))

        workers = [threading.Thread(target=open_it) for _ in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        check = sqlite3.connect(path)
        assert check.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        check.close()
    assert failed == []


def test_a_database_held_by_another_program_is_called_in_use_not_broken(tmp_path, monkeypatch):
    from kalender_sync.storage import status
    monkeypatch.setattr(status, "BUSY_TIMEOUT", 0.3)
    path = tmp_path / "state.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (a)")
    holder.execute("BEGIN EXCLUSIVE")            # as another program mid-write, before our WAL switch
    try:
        with pytest.raises(StateError) as caught:
            State(path)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "is in use by another program" in str(caught.value)
    assert "move it away" not in str(caught.value)
    State(path).close()                         # and once it is free, it opens
