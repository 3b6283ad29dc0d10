"""Where the sessions and aftercare people have were placed: remembered between runs.

A run that carries events out (sync, export, invite) keeps the placements of its plan
(planning.events.Placement, per group key), so the next run keeps each occurrence where
people have it (planning.stability) instead of placing it afresh against new busy times.

A small JSON file next to the config, written atomically (0600: it says when the team
meets). Losing it costs nothing but stability: the next run places afresh, and since an
occurrence's UIDs come from its group key, not from its time, calendars get the same
events moved, never a duplicate. A file that is there but cannot be read is an error, not
an empty store: placing afresh then could move what is close at hand without notice.
"""
from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

from ..core.errors import KalenderSyncError
from ..core.planning.events import Placement
from .atomic import write_atomically

try:
    import fcntl
except ImportError:  # pragma: no cover  (Windows: no lock)
    fcntl = None

PLACEMENTS_NAME = ".kalender-sync-placements.json"
VERSION = 1


class PlacementsError(KalenderSyncError):
    pass


def placements_path(config_path: Path) -> Path:
    return Path(config_path).parent / PLACEMENTS_NAME


def load_placements(path: Path) -> dict[str, Placement]:
    """The remembered placements; {} when there is no file (never placed, or it was lost)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise _unusable(path, exc.strerror or type(exc).__name__) from None
    try:
        doc = json.loads(data)
        if not isinstance(doc, dict) or doc.get("version") != VERSION:
            raise ValueError("not a placements file of this version")
        return {str(group): Placement(_moment(entry["start"]), str(entry["basis"]))
                for group, entry in doc["placements"].items()}
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise _unusable(path, str(exc) or type(exc).__name__) from None


def to_json(placements: Mapping[str, Placement]) -> bytes:
    """Sorted and stable: the same placements give the same bytes."""
    doc = {"version": VERSION, "placements": {
        group: {"start": placement.start.isoformat(), "basis": placement.basis}
        for group, placement in sorted(placements.items())}}
    return (json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def remember_placements(path: Path, placements: Mapping[str, Placement], today: date) -> bool:
    """Merge `placements` into the file at `path` (the new one wins for a group key) and drop
    what no plan can ask for again; True if the file changed.

    Placements that began before the year of a year ago are dropped: sessions are planned
    from the first period of this year on, and the past stretch looks back weeks, not years.
    Read, merged and written under a lock, so that a sync and an invite that end together
    both keep theirs.
    """
    with _locked(path):
        stored = load_placements(path)
        merged = {**stored, **placements}
        oldest = date(today.year - 1, 1, 1)
        merged = {group: p for group, p in merged.items() if p.start.date() >= oldest}
        if merged == stored and path.exists():
            return False
        write_atomically(path, to_json(merged), mode=0o600)
        return True


def keep_placements(path: Path, placements: Mapping[str, Placement], today: date) -> bool:
    """remember_placements, with a file that cannot be written as the run's error."""
    try:
        return remember_placements(path, placements, today)
    except OSError as exc:
        raise PlacementsError(f"the placements cannot be kept in {path} ({exc.strerror or type(exc).__name__}); "
                              "the next run places what is not kept afresh") from None


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"a start without its UTC offset: {text}")
    return moment


def _unusable(path: Path, why: str) -> PlacementsError:
    return PlacementsError(f"the placements file {path} cannot be read ({why}); move it away: the next run "
                           "places sessions and aftercare afresh (the same events move, none is duplicated)")


@contextlib.contextmanager
def _locked(path: Path):
    if fcntl is None:
        yield
        return
    with open(path.with_name(path.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
