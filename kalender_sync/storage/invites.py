"""The invitation database: per invitation UID the organizer's current version, per recipient
what they last got (see core/invitations.py for what is sent when)."""
from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ..core.errors import KalenderSyncError
from ..core.invitations import Mail, Seen, Stored
from .status import Database

STATE_NAME = ".kalender-sync-invites.sqlite"
SCHEMA_VERSION = 1


class InviteStateError(KalenderSyncError):
    pass


def _moment_text(value: datetime | date) -> tuple[str, str | None]:
    if isinstance(value, datetime):
        return value.isoformat(), getattr(value.tzinfo, "key", None)
    return value.isoformat(), None


def _moment(text: str, tzid: str | None) -> datetime | date:
    if "T" not in text:
        return date.fromisoformat(text)
    value = datetime.fromisoformat(text)
    return value.astimezone(ZoneInfo(tzid)) if tzid else value


class InviteState(Database):
    """Per invitation UID: the organizer's version; per recipient: what they last got.

    SQLite, one short transaction per sent mail. Never holds a password.
    """

    tables = (
        """CREATE TABLE IF NOT EXISTS invites (
            uid TEXT PRIMARY KEY, grp TEXT NOT NULL, kind TEXT NOT NULL, hash TEXT NOT NULL,
            sequence INTEGER NOT NULL, attendees TEXT NOT NULL, status TEXT NOT NULL, updated TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS recipients (
            uid TEXT NOT NULL, address TEXT NOT NULL, email TEXT NOT NULL, person TEXT NOT NULL,
            name TEXT NOT NULL, lang TEXT NOT NULL, method TEXT NOT NULL, sequence INTEGER NOT NULL,
            hash TEXT NOT NULL, title TEXT NOT NULL, start TEXT NOT NULL, end_ TEXT NOT NULL, tzid TEXT,
            location TEXT, sent TEXT NOT NULL, PRIMARY KEY (uid, address))""",
    )
    probe = "SELECT 1 FROM invites LIMIT 1"
    schema_version = SCHEMA_VERSION

    def unusable(self, exc: sqlite3.DatabaseError) -> KalenderSyncError:
        return InviteStateError(f"the invitation database {self.path} cannot be used ({exc}); without it "
                                "every invitation would be sent again, so fix or restore it")

    def load(self) -> dict[str, Stored]:
        seen: dict[str, dict[str, Seen]] = {}
        for row in self.db.execute("SELECT uid, address, email, person, name, lang, method, sequence, hash, title, "
                                   "start, end_, tzid, location, sent FROM recipients"):
            (uid, address, email, person, name, lang, method, sequence, hash_, title, start, end, tzid,
             location, sent) = row
            seen.setdefault(uid, {})[address] = Seen(email, person, name, lang, method, sequence, hash_, title,
                                                     _moment(start, tzid), _moment(end, tzid), location, sent)
        result = {}
        for uid, group, kind, hash_, sequence, attendees, status in self.db.execute(
                "SELECT uid, grp, kind, hash, sequence, attendees, status FROM invites"):
            result[uid] = Stored(uid, group, kind, hash_, sequence, tuple(json.loads(attendees)), status,
                                 seen.get(uid, {}))
        return result

    def record(self, mail: Mail, sent: str) -> None:
        """After the SMTP server accepted `mail`: its version is now the organizer's, and the recipient has it."""
        start, tzid = _moment_text(mail.start)
        end, _ = _moment_text(mail.end)
        with self.transaction():
            self.db.execute(
                """INSERT INTO invites VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (uid) DO UPDATE SET
                   hash = excluded.hash, sequence = MAX(sequence, excluded.sequence),
                   attendees = excluded.attendees, status = excluded.status, updated = excluded.updated""",
                (mail.uid, mail.group, mail.kind, mail.hash, mail.sequence, json.dumps(list(mail.version_attendees)),
                 mail.version_status, sent))
            self.db.execute("INSERT OR REPLACE INTO recipients VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            (mail.uid, mail.to.address, mail.to.email, mail.to.person, mail.to.name, mail.to.lang,
                             mail.method, mail.sequence, mail.hash, mail.title, start, end, tzid, mail.location,
                             sent))


