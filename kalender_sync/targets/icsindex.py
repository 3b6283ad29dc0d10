"""What the exported .ics files of a folder hold, so that unchanged files need not be parsed again.

Parsing an .ics file with icalendar is by far the slowest part of a no-op `plan --out` or
`export` (10,000 files: a minute). `export` therefore keeps, per folder, a small JSON file
`.kalender-sync-index.json` mapping each file name to the SHA-256 of its bytes and the
`Existing` records `read_existing` gives for it:

    {"version": 1, "files": {"ad.ics": {"sha256": "…", "events": [{"uid": …, "key": …,
     "hash": …, "sequence": 0, "stamp": "2026-11-24T00:00:00+00:00[UTC]", "end": "2026-11-26"}]}}}

The index is only a cache. An entry is used only when the file's bytes still have its
SHA-256, so a hand-edited file is parsed again; a missing, unreadable, corrupt or
other-version index is a miss, never an error. `plan` reads it and never writes it.
"""
from __future__ import annotations

import hashlib
import json
import os
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..storage import atomic
from ..core.diff import SYNCED, Existing

INDEX_NAME = ".kalender-sync-index.json"
VERSION = 1
FIELDS = ("uid", "key", "hash", "sequence", "stamp", "end")
_FIELD_SET = frozenset(FIELDS)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _encode_stamp(stamp: datetime) -> str:
    text = stamp.isoformat()
    key = getattr(stamp.tzinfo, "key", None)
    # icalendar reads a UTC DTSTAMP as ZoneInfo("UTC"), not as datetime.timezone.utc: the zone
    # goes along (RFC 9557 suffix) so that the record read back is the same, tzinfo included.
    return f"{text}[{key}]" if isinstance(stamp.tzinfo, ZoneInfo) and key else text


@lru_cache(maxsize=4096)   # most events of a folder share a handful of stamps; datetimes are immutable
def _decode_stamp(text: str) -> datetime:
    if text.endswith("]"):
        text, _, key = text[:-1].partition("[")
        value = datetime.fromisoformat(text)
        zoned = value.replace(tzinfo=ZoneInfo(key))
        if zoned.utcoffset() != value.utcoffset():
            zoned = zoned.replace(fold=1)
            if zoned.utcoffset() != value.utcoffset():
                raise ValueError(f"offset does not fit {key}: {text}")
        return zoned
    return datetime.fromisoformat(text)


_decode_day = lru_cache(maxsize=4096)(date.fromisoformat)


def _decode_event(item: Any) -> Existing:
    if not isinstance(item, dict) or item.keys() != _FIELD_SET:
        raise ValueError("not an event record")
    uid, key, hash_, stamp, end = item["uid"], item["key"], item["hash"], item["stamp"], item["end"]
    sequence = item["sequence"]
    if not (type(uid) is str and uid and (key is None or type(key) is str) and (hash_ is None or type(hash_) is str)
            and (stamp is None or type(stamp) is str) and (end is None or type(end) is str)
            and type(sequence) is int):
        raise ValueError(f"not an event record: {item!r}")
    return Existing(uid=uid, key=key, hash=hash_, sequence=sequence,
                    stamp=_decode_stamp(stamp) if stamp is not None else None,
                    end=_decode_day(end) if end is not None else None)


def decode(events: Any) -> dict[str, Existing]:
    """An entry's events as `read_existing` returns them. Raises ValueError/TypeError if malformed."""
    if not isinstance(events, list):
        raise ValueError("events is not a list")
    result: dict[str, Existing] = {}
    for item in events:
        record = _decode_event(item)
        result[record.uid] = record
    return result


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same types, down to the tzinfo (== alone compares aware datetimes as instants)."""
    if type(a) is not type(b) or a != b:
        return False
    if isinstance(a, datetime):
        return (type(a.tzinfo) is type(b.tzinfo) and a.tzinfo == b.tzinfo and a.fold == b.fold
                and a.replace(tzinfo=None) == b.replace(tzinfo=None))
    return True


def encode(records: dict[str, Existing]) -> list[dict] | None:
    """Records as JSON-able events; None if they would not read back exactly as they are.

    Only files we wrote are expected here, but a hand-edited file that `export` keeps is
    recorded too, and its DTSTAMP may be a date or carry a zone of its own: such a file
    gets no entry (it is parsed each time) rather than one that reads back different.
    """
    events = []
    for record in records.values():
        if (record.state, record.href, record.etag) != (SYNCED, None, None):
            return None
        stamp = record.stamp
        if stamp is not None and not isinstance(stamp, datetime):
            return None
        events.append({"uid": record.uid, "key": record.key, "hash": record.hash, "sequence": record.sequence,
                       "stamp": _encode_stamp(stamp) if stamp is not None else None,
                       "end": record.end.isoformat() if record.end is not None else None})
    try:
        back = decode(json.loads(json.dumps(events)))
    except Exception:   # noqa: BLE001 - whatever does not read back is simply not indexed
        return None
    if list(back) != list(records):
        return None
    for uid, record in records.items():
        if not all(_same(getattr(record, f), getattr(back[uid], f)) for f in FIELDS):
            return None
    return events


class FolderIndex:
    """The index of one folder: read at most once per run, written only by `save` (export)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / INDEX_NAME
        self._raw: bytes | None = None          # the index file as read (None: there was none)
        self._files: dict[str, Any] | None = None   # its entries (empty if it was missing or unusable)
        self._valid = False
        self._hits: dict[str, tuple[str, dict[str, Existing]]] = {}
        self._known: dict[str, tuple[str, dict[str, Existing]] | None] = {}

    def _entries(self) -> dict[str, Any]:
        if self._files is None:
            self._files = {}
            try:
                self._raw = self.path.read_bytes()
                doc = json.loads(self._raw)
            except Exception:   # noqa: BLE001 - missing, unreadable, not UTF-8, not JSON: a miss
                return self._files
            if isinstance(doc, dict) and doc.get("version") == VERSION and isinstance(doc.get("files"), dict):
                self._files, self._valid = doc["files"], True
        return self._files

    def lookup(self, name: str, sha256: str) -> dict[str, Existing] | None:
        """The records of file `name` if the index has them for exactly these bytes, else None."""
        entry = self._entries().get(name)
        if not isinstance(entry, dict) or entry.get("sha256") != sha256:
            return None
        try:
            records = decode(entry.get("events"))
        except Exception:   # noqa: BLE001 - a malformed entry (bad date, unknown zone, …) is a miss
            return None
        self._hits[name] = (sha256, records)
        return records

    def record(self, name: str, sha256: str | None, records: dict[str, Existing] | None) -> None:
        """What file `name` holds now (bytes with this SHA-256); None: not known, drop its entry."""
        self._known[name] = (sha256, records) if sha256 is not None and records is not None else None

    def save(self) -> bool:
        """Write the index if its content changed; True if written. Raises OSError.

        Entries of files this run did not look at are kept (e.g. `export --person`), those of
        files no longer in the folder dropped.
        """
        loaded = self._entries()
        files = dict(loaded)
        changed = not self._valid
        for name, known in self._known.items():
            hit = self._hits.get(name)
            if known is not None and hit is not None and hit[0] == known[0] and hit[1] is known[1]:
                continue   # read from the index and still what the file holds: the entry stays as it is
            changed = True
            files.pop(name, None)
            if known is not None:
                events = encode(known[1])
                if events is not None:
                    files[name] = {"sha256": known[0], "events": events}
        try:
            present = set(os.listdir(self.folder))
        except OSError:
            present = set()
        if any(name not in present for name in files):
            files = {name: entry for name, entry in files.items() if name in present}
            changed = True
        if not changed or (not files and self._raw is None):
            return False
        data = json.dumps({"version": VERSION, "files": files}, sort_keys=True, ensure_ascii=False,
                          separators=(",", ":")).encode("utf-8") + b"\n"
        if data == self._raw:
            return False
        atomic.write_atomically(self.path, data)
        self._raw, self._files, self._valid, self._hits, self._known = data, files, True, {}, {}
        return True
