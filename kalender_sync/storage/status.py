"""The status database: what we last wrote to each calendar, keyed by UID.

SQLite in WAL mode, one short transaction per server write, so a run killed at any
point leaves a database that opens and at most one event whose write is not
recorded; the next run adopts that event by its UID instead of creating it again.
Secrets are never stored here: calendars are keyed by their URL without credentials.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol
from datetime import datetime
from pathlib import Path

from ..core.diff import ItemState
from ..core.errors import KalenderSyncError
from ..core.publicholidays import HolidayFacts, memo_text, seed_from_memo
from .holidaycache import library_version

SCHEMA_VERSION = 1
_HOLIDAYS_META = "holidays"
# How long a write waits for another process's transaction on the same database.
BUSY_TIMEOUT = 30.0



@dataclass(frozen=True)
class Record:
    """What the engine last knew of one event in one calendar."""

    calendar: str
    uid: str
    href: str
    etag: str | None
    hash: str
    sequence: int
    stamp: str
    status: ItemState
    key: str | None = None
    end: str | None = None       # ISO date of the event's end: past events are history
    # As the calendar holds it (someone's edit included): what `plan` shows for an event the
    # plan no longer has, and the time a person moved it to.
    title: str | None = None
    start: str | None = None     # ISO date or date-time of its start
    moved: bool | None = None    # edited: its person moved it (None: not known, e.g. the database was lost)


class StatusStore(Protocol):
    """Where the engine remembers, per calendar, each event's record and the sync token."""

    def records(self, calendar: str) -> dict[str, Record]: ...
    def put(self, *records: Record) -> None: ...
    def forget(self, calendar: str, *uids: str) -> None: ...
    def sync_token(self, calendar: str) -> str | None: ...
    def set_sync_token(self, calendar: str, token: str | None) -> None: ...


class MemoryStatus:
    """A status store that lives for one run: for `export` and `plan` without a status DB
    (files need none: the file itself is the record) and for the engine's tests."""

    def __init__(self):
        self._records: dict[str, dict[str, Record]] = {}
        self._tokens: dict[str, str | None] = {}

    def records(self, calendar: str) -> dict[str, Record]:
        return dict(self._records.get(calendar, {}))

    def put(self, *records: Record) -> None:
        for record in records:
            self._records.setdefault(record.calendar, {})[record.uid] = record

    def forget(self, calendar: str, *uids: str) -> None:
        for uid in uids:
            self._records.get(calendar, {}).pop(uid, None)

    def sync_token(self, calendar: str) -> str | None:
        return self._tokens.get(calendar)

    def set_sync_token(self, calendar: str, token: str | None) -> None:
        self._tokens[calendar] = token


class StateError(KalenderSyncError):
    pass


def open_db(path: Path) -> sqlite3.Connection:
    """A status database: WAL, so a reader never blocks the writer and a kill -9 loses at most
    the transaction in flight; autocommit off, every write in an explicit transaction. One
    connection serves the run's workers (sync --jobs), one statement at a time (Database)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT, check_same_thread=False)
    try:
        _into_wal(db)
        db.execute("PRAGMA synchronous=NORMAL")
    except BaseException:
        db.close()
        raise
    return db


def _into_wal(db: sqlite3.Connection) -> None:
    """Switching a database into WAL needs it to itself for a moment, and SQLite answers "database
    is locked" at once there instead of waiting as the busy timeout says: two runs opening a new
    status DB at the same moment (the shards of one split sync) failed. So wait here, as long
    as a write would; once another run has switched it, the pragma finds it in WAL already."""
    deadline = time.monotonic() + BUSY_TIMEOUT
    pause = 0.005
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if not _locked(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def _locked(exc: sqlite3.DatabaseError) -> bool:
    """Another connection holds the database (SQLITE_BUSY): in use, not broken."""
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


def open_read_only(path: Path) -> sqlite3.Connection:
    """An existing database, opened so that nothing can be created or changed in it."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None,
                           check_same_thread=False)


@contextmanager
def transaction(db: sqlite3.Connection):
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class Database:
    """One of our SQLite files: its tables made on first use, one short transaction per write.

    A subclass names its `tables` (CREATE statements), the query that proves a file opened
    read-only is one of its kind (`probe`), and what to say when the file cannot be used.
    """

    tables: tuple[str, ...] = ()
    probe = ""
    schema_version = SCHEMA_VERSION

    def __init__(self, path: Path, read_only: bool = False):
        self.path = path
        # Calendars are synced side by side (sync --jobs) over this one connection: one writer,
        # each statement or short transaction whole under this lock, so no transaction of one
        # worker takes in another's statements.
        self.lock = threading.RLock()
        try:
            if read_only:
                self.db = open_read_only(path)
                self.db.execute(self.probe)
            else:
                self.db = open_db(path)
                self._migrate()
        except sqlite3.DatabaseError as exc:
            error = self.unusable(exc)
            if _locked(exc):
                # In use, not broken: "move it away" would be the wrong advice.
                error = type(error)(f"{self.path} is in use by another program (database is locked, waited "
                                    f"{BUSY_TIMEOUT:.0f} s); run again when it has finished")
            raise error from None

    def unusable(self, exc: sqlite3.DatabaseError) -> KalenderSyncError:
        raise NotImplementedError

    def _migrate(self) -> None:
        with self.transaction():
            for statement in self.tables:
                self.db.execute(statement)
            self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(self.schema_version),))

    @contextmanager
    def transaction(self):
        with self.lock, transaction(self.db):
            yield

    def read(self, sql: str, parameters=()) -> list:
        with self.lock:
            return self.db.execute(sql, parameters).fetchall()

    def close(self) -> None:
        self.db.close()


class State(Database):
    """The status database: per calendar and event what the engine last knew, and sync tokens."""

    tables = (
        """CREATE TABLE IF NOT EXISTS events (
            calendar TEXT NOT NULL, uid TEXT NOT NULL, href TEXT NOT NULL, etag TEXT,
            hash TEXT NOT NULL, sequence INTEGER NOT NULL, stamp TEXT NOT NULL,
            status TEXT NOT NULL, key TEXT, end_day TEXT, title TEXT, start_at TEXT, moved INTEGER,
            PRIMARY KEY (calendar, uid))""",
        "CREATE INDEX IF NOT EXISTS events_href ON events (calendar, href)",
        "CREATE TABLE IF NOT EXISTS calendars (calendar TEXT PRIMARY KEY, sync_token TEXT)",
    )
    probe = "SELECT 1 FROM events LIMIT 1"

    # Columns added after the first release: a database made before gets them on opening.
    added_columns = (("title", "TEXT"), ("start_at", "TEXT"), ("moved", "INTEGER"))
    _columns = "calendar, uid, href, etag, hash, sequence, stamp, status, key, end_day, title, start_at, moved"

    def _migrate(self) -> None:
        super()._migrate()
        have = {row[1] for row in self.db.execute("PRAGMA table_info(events)")}
        missing = [(name, kind) for name, kind in self.added_columns if name not in have]
        if missing:
            with self.transaction():
                for name, kind in missing:
                    self.db.execute(f"ALTER TABLE events ADD COLUMN {name} {kind}")

    def unusable(self, exc: sqlite3.DatabaseError) -> KalenderSyncError:
        return StateError(f"the status database {self.path} cannot be used ({exc}); move it away: "
                          "the next sync adopts the events it finds by UID")

    # -- events -------------------------------------------------------------
    def records(self, calendar: str) -> dict[str, Record]:
        rows = self.read(f"SELECT {self._columns} FROM events WHERE calendar = ?", (calendar,))
        return {row[1]: Record(*row[:7], ItemState(row[7]), *row[8:12], None if row[12] is None else bool(row[12]))
                for row in rows}

    def put(self, *records: Record) -> None:
        with self.transaction():
            self.db.executemany(f"INSERT OR REPLACE INTO events ({self._columns}) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                [(r.calendar, r.uid, r.href, r.etag, r.hash, r.sequence, r.stamp,
                                  r.status, r.key, r.end, r.title, r.start, r.moved) for r in records])

    def forget(self, calendar: str, *uids: str) -> None:
        with self.transaction():
            self.db.executemany("DELETE FROM events WHERE calendar = ? AND uid = ?",
                                [(calendar, uid) for uid in uids])

    # -- sync tokens ---------------------------------------------------------
    def sync_token(self, calendar: str) -> str | None:
        rows = self.read("SELECT sync_token FROM calendars WHERE calendar = ?", (calendar,))
        return rows[0][0] if rows else None

    def set_sync_token(self, calendar: str, token: str | None) -> None:
        with self.transaction():
            self.db.execute("INSERT OR REPLACE INTO calendars VALUES (?, ?)", (calendar, token))

    # -- small remembered facts (public holidays, see core.publicholidays) ----------------------
    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def remember_holidays(self, facts: HolidayFacts, stored: str | None) -> None:
        """Keep what `facts` knows now for the next run, if it differs from what was `stored`."""
        memo = memo_text(facts, library_version())
        if memo != stored:
            self.set_meta(_HOLIDAYS_META, memo)


def read_meta(path: Path, key: str) -> str | None:
    """A meta value, read without creating or changing anything (a bad config must write
    nothing, and this runs before the config is read); None if there is none."""
    if not path.is_file():
        return None
    try:
        db = open_read_only(path)
        try:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def recall_holidays(path: Path) -> tuple[HolidayFacts, str | None]:
    """The public-holiday answers an earlier sync kept in the status DB at `path`, if they came
    from the installed `holidays` version: a no-op sync then never imports that library.
    Returns the facts and what was stored (to see later whether it grew)."""
    facts = HolidayFacts()
    stored = read_meta(path, _HOLIDAYS_META)
    return (facts, stored) if seed_from_memo(facts, stored, library_version()) else (facts, None)


def stamp_text(stamp: datetime) -> str:
    return stamp.strftime("%Y%m%dT%H%M%SZ")
