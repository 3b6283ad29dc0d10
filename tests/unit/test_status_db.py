"""The status database: a database made by an earlier version opens, gains what is new, keeps its rows."""
from __future__ import annotations

import sqlite3

from kalender_sync.core.diff import EDITED, SYNCED
from kalender_sync.storage.status import Record, State

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
