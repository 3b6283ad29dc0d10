"""The public holidays the `holidays` library gave, kept once per user for every later command.

Importing that library loads every country it has, the largest single part of a command's
start-up; its answers depend only on its version. The status DB keeps them for one team's
`sync` (storage.status.recall_holidays); this file keeps them for every command and every
config of this user, so a first sync into a new status DB, `check`, `plan` and `export` skip
the import too. It holds nothing private: public holidays by country and year.

Where: `$KALENDER_SYNC_CACHE_DIR/holidays.json`, else `$XDG_CACHE_HOME/kalender-sync/`, else
`~/.cache/kalender-sync/`; KALENDER_SYNC_CACHE_DIR=off keeps no such file. It is a cache: one
that cannot be read or written means the library is asked, never an error, and a memo of
another library version is not used.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..core.publicholidays import HolidayFacts, memo_text, seed_from_memo

CACHE_DIR_ENV = "KALENDER_SYNC_CACHE_DIR"
FILE_NAME = "holidays.json"


def library_version() -> str | None:
    """The installed `holidays` version, read without importing that library.

    An installed distribution has one `{name}-{version}.dist-info` folder beside its package
    (the installed-packages spec fixes that name), so the folder names the version.
    importlib.metadata reads the same folder, but importing it (it brings the email package)
    and its first scan of every installed distribution are a noticeable part of each
    command's start-up. Anything else (no such folder, more than one, the package not found)
    is left to importlib.metadata."""
    import importlib.util
    try:
        spec = importlib.util.find_spec("holidays")
        folder = Path(next(iter(spec.submodule_search_locations))).parent
        found = [entry.name for entry in os.scandir(folder)
                 if entry.name.startswith("holidays-") and entry.name.endswith(".dist-info")]
    except (AttributeError, TypeError, StopIteration, ImportError, OSError, ValueError):
        found = []
    if len(found) == 1:
        return found[0][len("holidays-"):-len(".dist-info")]
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("holidays")
    except PackageNotFoundError:
        return None


def cache_file(environ=os.environ) -> Path | None:
    chosen = environ.get(CACHE_DIR_ENV)
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "none", "0") else Path(chosen) / FILE_NAME
    base = environ.get("XDG_CACHE_HOME") or (str(Path.home() / ".cache") if environ.get("HOME") else "")
    return Path(base) / "kalender-sync" / FILE_NAME if base else None


def recall(facts: HolidayFacts, path: Path | None) -> str | None:
    """Seed `facts` from the cache; returns what it held (to see later whether it grew)."""
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return text if seed_from_memo(facts, text, library_version()) else None


def remember(facts: HolidayFacts, seen: str | None, path: Path | None) -> None:
    """Keep what `facts` knows now, if it is more than the cache held."""
    if path is None or not facts.known_anything():
        return
    text = memo_text(facts, library_version())
    if text == seen:
        return
    from .atomic import write_atomically
    try:
        write_atomically(path, text.encode("utf-8"), make_parents=True)
    except OSError:
        pass    # a read-only home or a full disk: the next command asks the library again
