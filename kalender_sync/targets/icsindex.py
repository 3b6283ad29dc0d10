"""What the .ics files of a folder hold, so that unchanged files need not be parsed again.

Parsing an .ics file with icalendar is by far the slowest part of a no-op `plan --out` or
`export` over many files. So the file target keeps, per folder, a small JSON file
`.kalender-sync-index.json` mapping each file name to the SHA-256 of its bytes and the
`Item`s read from it:

    {"version": 3, "files": {"ad.ics": {"sha256": "…", "items": [{"href": …, "etag": …, "uid": …,
     "key": …, "written_hash": …, "seen_hash": …, "sequence": 0, "stamp": "20261124T000000Z",
     "end": "2026-11-26", "title": …, "start": …}]}}}

The index is only a cache. An entry is used only when the file's bytes still have its
SHA-256, so a hand-edited file is parsed again; a missing, unreadable, corrupt or
other-version index is a miss, never an error. Runs that write nothing (`plan`, a dry run)
read it and never write it.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, fields
from datetime import date
from pathlib import Path
from typing import Any

from ..storage import atomic
from .base import Item

INDEX_NAME = ".kalender-sync-index.json"
VERSION = 3
_FIELDS = tuple(f.name for f in fields(Item))
_TYPES = {"href": str, "etag": (str, type(None)), "uid": (str, type(None)), "key": (str, type(None)),
          "written_hash": (str, type(None)), "seen_hash": (str, type(None)), "sequence": int, "stamp": str,
          "end": (str, type(None)), "title": str,
          "start": (str, type(None))}
assert set(_TYPES) == set(_FIELDS)
_STAMP = re.compile(r"(\d{8}T\d{6}Z)?")     # a UTC DTSTAMP as the reader writes it, or none


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def encode(items: list[Item]) -> list[dict]:
    return [{**asdict(item), "end": item.end.isoformat() if item.end is not None else None} for item in items]


def decode(entries: Any) -> list[Item]:
    """An entry's items. Raises ValueError/TypeError if it is malformed."""
    if not isinstance(entries, list):
        raise ValueError("items is not a list")
    result = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.keys() != set(_FIELDS):
            raise ValueError("not an item record")
        for name, kind in _TYPES.items():
            # bool is an int to isinstance; a sequence of `true` is not a number anyone wrote
            if not isinstance(entry[name], kind) or isinstance(entry[name], bool):
                raise ValueError(f"not an item record: {name}")
        if not _STAMP.fullmatch(entry["stamp"]):
            raise ValueError("not an item record: stamp")
        end = date.fromisoformat(entry["end"]) if entry["end"] is not None else None
        result.append(Item(**{**entry, "end": end}))
    return result


class FolderIndex:
    """The index of one folder: read at most once per run, written by `save` at its end."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / INDEX_NAME
        self._raw: bytes | None = None              # the index file as read (None: there was none)
        self._files: dict[str, Any] | None = None   # its entries (empty if missing or unusable)
        self._valid = False
        self._known: dict[str, tuple[str, list[Item]] | None] = {}
        self._malformed: set[str] = set()

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

    def lookup(self, name: str, sha256: str) -> list[Item] | None:
        """The items of file `name` if the index has them for exactly these bytes, else None."""
        entry = self._entries().get(name)
        if not isinstance(entry, dict) or entry.get("sha256") != sha256:
            return None
        try:
            return decode(entry.get("items"))
        except (ValueError, TypeError):   # a malformed entry is a miss, and is written anew
            self._malformed.add(name)
            return None

    def record(self, name: str, sha256: str | None, items: list[Item] | None) -> None:
        """What file `name` holds now (bytes with this SHA-256); None: not known, drop its entry."""
        self._known[name] = (sha256, items) if sha256 is not None and items is not None else None

    def save(self) -> bool:
        """Write the index if its content changed; True if written. Raises OSError.

        Entries of files this run did not look at are kept (e.g. `export --person`), those of
        files no longer in the folder dropped.
        """
        loaded = self._entries()
        files = dict(loaded)
        changed = not self._valid
        for name, known in self._known.items():
            entry = loaded.get(name)
            if (known is not None and isinstance(entry, dict) and entry.get("sha256") == known[0]
                    and name not in self._malformed):
                continue    # the file still holds what its entry says: keep it as it is
            changed = True
            files.pop(name, None)
            if known is not None:
                files[name] = {"sha256": known[0], "items": encode(known[1])}
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
        self._raw, self._files, self._valid, self._known, self._malformed = data, files, True, {}, set()
        return True
